package org.fastllm.modules.train;

import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.checkpoint.TrainState;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.distributed.DistributedLaunch;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.distributed.ProcessGroupSync;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.optim.LearningRateSchedule;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DeviceChoice;
import org.fastllm.dsl.config.Precision;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.modules.layer.Scopes;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * Trains a model from a resolved run config: builds it (seeded), draws batches, runs AdamW with the schedule,
 * evaluates the held-out split, writes {@code metrics.jsonl} and checkpoints, and can resume from one.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.create(config.withRunDefaults(), yamlText, data, Optional.empty());
 * Trainer.Result result = trainer.run(report -> System.err.println(report.loss()));
 * }</pre>
 *
 * <p><b>The same config, seed and data give the same losses on the CPU, and a run resumed from a checkpoint gives
 * the losses the uninterrupted run would have.</b> A non-finite loss stops the run with
 * {@link TrainingDivergedException} before the bad update is applied.
 *
 * <p>Data parallel: created with a {@link DistributedLaunch} of several processes, each process draws its share of
 * every batch ({@link BatchSampler#shard}), the gradients and the reported losses are averaged over the processes
 * before clipping, and only rank 0 writes metrics and checkpoints. <b>A run of W processes with batch B gives the
 * losses of one process with batch B</b>, up to the order of float additions.
 */
public final class Trainer implements AutoCloseable {
  private static final long VALIDATION_SALT = 0x5EED_0F_7E57L;
  private final ConfigDocument config;
  private final String configYaml;
  private final LanguageModel model;
  private final AdamW optimizer;
  private final TrainingData data;
  private final Device device;
  private final boolean bf16;
  private final Path output;
  private final DistributedLaunch launch;
  private final GradientSync sync;
  private long microBatches;
  private int firstStep;
  private Double bestValidationLoss;

  /** What a finished run did. */
  public record Result(int firstStep, int steps, long tokens, double seconds, double firstLoss, double lastLoss,
      Double bestValidationLoss, Path output, Optional<Path> lastCheckpoint, long parameters) {}

  /** Called after each step, and after each checkpoint. */
  public interface Listener {
    void onStep(StepReport report);

    default void onCheckpoint(Path folder) {}
  }

  private Trainer(ConfigDocument config, String configYaml, LanguageModel model, TrainingData data, Device device,
      boolean bf16, DistributedLaunch launch, GradientSync sync) {
    this.config = config;
    this.configYaml = configYaml;
    this.model = model;
    this.optimizer = new AdamW(model.uniqueParameters(), config.optimizer(), sync.worldSize() > 1,
        keepsBf16Copies(config, device, bf16, sync) ? model.singleUseLinears() : List.of());
    this.data = data;
    this.device = device;
    this.bf16 = bf16;
    this.output = Path.of(config.training().outputDir());
    this.launch = launch;
    this.sync = sync;
  }

  /**
   * Builds the model of {@code resolved} (all run sections present) on its device, seeded by
   * {@code training.seed}, and restores {@code resume} into it when given.
   */
  public static Trainer create(ConfigDocument resolved, String configYaml, TrainingData data,
      Optional<Checkpoint.Loaded> resume) {
    return create(resolved, configYaml, data, resume, DistributedLaunch.single());
  }

  /**
   * As {@link #create(ConfigDocument, String, TrainingData, Optional)}, as process {@code launch.rank()} of a
   * data-parallel run: waits until every process has joined the process group (Gloo on the CPU, NCCL on CUDA).
   */
  public static Trainer create(ConfigDocument resolved, String configYaml, TrainingData data,
      Optional<Checkpoint.Loaded> resume, DistributedLaunch launch) {
    TrainingConfig training = resolved.training();
    if (training.batchSize() % launch.worldSize() != 0) {
      throw new IllegalArgumentException("training.batch_size is " + training.batchSize() + ", which "
          + launch.worldSize() + " processes cannot share; with data parallelism it must be a multiple of the number "
          + "of processes");
    }
    resume.ifPresent(loaded -> requireSameWorld(loaded, launch));
    if (data.vocabSize() > resolved.model().vocabSize()) {
      throw new IllegalArgumentException("model.vocab_size is " + resolved.model().vocabSize()
          + " but the tokenizer produces ids up to " + (data.vocabSize() - 1) + "; set model.vocab_size to at least "
          + data.vocabSize());
    }
    Device device = device(training.device(), launch.localRank());
    if (device.is_cpu()) {
      limitThreadsOnSmallMachines();
    }
    boolean bf16 = training.precision() == Precision.BF16
        || (training.precision() == Precision.AUTO && device.is_cuda());
    torch.manual_seed(training.seed());
    LanguageModel model = StackBuilder.installed().build(resolved.model().withDefaults());
    if (!device.is_cpu()) {
      model.to(device, false);
    }
    GradientSync sync = launch.distributed() ? ProcessGroupSync.connect(launch, device) : GradientSync.NONE;
    Trainer trainer = new Trainer(resolved, configYaml, model, data, device, bf16, launch, sync);
    resume.ifPresent(trainer::restore);
    return trainer;
  }

  /**
   * One intra-op thread on machines of up to 4 cores unless OpenMP is configured: with OpenMP's default spinning
   * wait, two threads on two cores made steps about 10 times slower than one thread (measured on the built-in run).
   */
  private static void limitThreadsOnSmallMachines() {
    if (System.getenv("OMP_NUM_THREADS") == null && System.getenv("OMP_WAIT_POLICY") == null
        && Runtime.getRuntime().availableProcessors() <= 4) {
      torch.set_num_threads(1);
    }
  }

  private static void requireSameWorld(Checkpoint.Loaded loaded, DistributedLaunch launch) {
    int saved = loaded.state().processes();
    if (saved != launch.worldSize()) {
      throw new IllegalArgumentException("checkpoint " + loaded.folder() + " was saved by a run of " + saved
          + (saved == 1 ? " process" : " processes") + "; resume it with the same number (--nproc " + saved
          + " or WORLD_SIZE=" + saved + "), not " + launch.worldSize());
    }
  }

  /** {@code auto}: CUDA when libtorch sees a GPU, else the CPU. */
  public static Device device(DeviceChoice choice) {
    return device(choice, 0);
  }

  /** As {@link #device(DeviceChoice)}, with GPU {@code cuda:localRank} for process {@code localRank} of a host. */
  public static Device device(DeviceChoice choice, int localRank) {
    boolean cuda = switch (choice) {
      case CPU -> false;
      case CUDA -> {
        if (!torch.cuda_is_available()) {
          throw new IllegalStateException("training.device is cuda, but libtorch sees no CUDA device");
        }
        yield true;
      }
      case AUTO -> torch.cuda_is_available();
    };
    return new Device(cuda ? "cuda:" + localRank : "cpu");
  }

  /**
   * Whether the optimizer keeps bfloat16 copies of the linear layers' weights ({@link AdamW}): one CUDA process
   * under bf16 autocast, without gradient accumulation (the copies' gradients would add up in bfloat16 over
   * micro-batches, where autocast adds them in float32); {@code -Dfastllm.bf16Copies=false} turns them off.
   */
  private static boolean keepsBf16Copies(ConfigDocument config, Device device, boolean bf16, GradientSync sync) {
    return bf16 && device.is_cuda() && sync.worldSize() == 1 && config.training().gradientAccumulation() == 1
        && !"false".equals(System.getProperty("fastllm.bf16Copies"));
  }

  private void restore(Checkpoint.Loaded loaded) {
    Checkpoint.restoreWeights(loaded, model);
    optimizer.weightsChanged();
    Checkpoint.restoreOptimizer(loaded, optimizer);
    TrainState state = loaded.state();
    microBatches = state.microBatches();
    firstStep = Math.toIntExact(state.step());
    bestValidationLoss = state.bestValidationLoss();
    if (state.torchRng() != null) {
      restoreRng(loaded.folder().resolve("state.json"), state.torchRng());
    }
  }

  private static void restoreRng(Path file, String base64) {
    try {
      byte[] bytes = Base64.getDecoder().decode(base64);
      Tensor rng = torch.empty(new long[] {bytes.length}, new org.bytedeco.pytorch.TensorOptions(
          torch.ScalarType.Byte), new org.bytedeco.pytorch.MemoryFormatOptional());
      new BytePointer(rng.data_ptr()).capacity(bytes.length).put(bytes);
      torch.getDefaultCPUGenerator().set_state(rng);
    } catch (RuntimeException e) {
      // libtorch refuses a state of the wrong size; Base64 refuses a damaged text.
      throw new CheckpointException(file + ": torch_rng is not a libtorch CPU generator state ("
          + e.getMessage().lines().findFirst().orElse("") + ")", e);
    }
  }

  public LanguageModel model() {
    return model;
  }

  public AdamW optimizer() {
    return optimizer;
  }

  public boolean bf16() {
    return bf16;
  }

  public Device deviceUsed() {
    return device;
  }

  public DistributedLaunch launch() {
    return launch;
  }

  /** Leaves the process group, if any. */
  @Override
  public void close() {
    sync.close();
  }

  /** Trains from the current step to {@code training.steps}. */
  public Result run(Listener listener) throws IOException {
    TrainingConfig training = config.training();
    int total = training.steps();
    int accumulation = training.gradientAccumulation();
    BatchSampler global = new BatchSampler(data.train(), training.batchSize(), training.sequenceLength(),
        training.seed(), config.model().vocabSize());
    BatchSampler sampler = global.shard(launch.rank(), launch.worldSize());
    Optional<BatchSampler> held = data.validation().size() > training.sequenceLength()
        ? Optional.of(new BatchSampler(data.validation(), training.batchSize(), training.sequenceLength(),
            training.seed() ^ VALIDATION_SALT, config.model().vocabSize()).shard(launch.rank(), launch.worldSize()))
        : Optional.empty();
    LearningRateSchedule schedule = new LearningRateSchedule(config.optimizer(), total);
    if (launch.writesFiles()) {
      Files.createDirectories(output);
    }
    Path checkpoints = output.resolve("checkpoints");
    Optional<Path> lastCheckpoint = Optional.empty();
    long tokensPerStep = global.tokensPerBatch() * accumulation;
    double firstLoss = Double.NaN;
    double lastLoss = Double.NaN;
    long start = System.nanoTime();
    autocast(bf16);
    try (BufferedWriter metrics = metricsLog(firstStep)) {
      for (int step = firstStep; step < total; step++) {
        long stepStart = System.nanoTime();
        double lr = schedule.at(step);
        double loss;
        double norm;
        try (PointerScope scope = new PointerScope()) {
          Tensor lossSum = null;
          for (int a = 0; a < accumulation; a++) {
            // a micro-batch's forward is released before the next one runs
            Tensor detached = Scopes.scoped(() -> {
              BatchSampler.Batch batch = sampler.batch(microBatches++, device);
              Tensor value = model.loss(batch.inputs(), batch.targets());
              value.div(new org.bytedeco.pytorch.Scalar((double) accumulation)).backward();
              return value.detach();
            });
            lossSum = lossSum == null ? detached : lossSum.add(detached);
          }
          // Averaged before clipping, so every process clips and steps alike.
          optimizer.averageGradients(sync);
          Tensor meanLoss = averaged(lossSum.div(new org.bytedeco.pytorch.Scalar((double) accumulation)));
          // One wait for the device per step: the loss and the gradient norm are read together.
          Tensor gradientNorm = optimizer.clipGradients(config.optimizer().gradClip());
          Tensor both = torch.stack(new org.bytedeco.pytorch.TensorVector(meanLoss,
              gradientNorm.to(torch.ScalarType.Double))).cpu();
          loss = both.select(0, 0).item_double();
          norm = both.select(0, 1).item_double();
          if (!Double.isFinite(loss)) {
            throw new TrainingDivergedException(step + 1, "loss", loss);
          }
          if (!Double.isFinite(norm)) {
            throw new TrainingDivergedException(step + 1, "gradient norm", norm);
          }
          optimizer.step(lr);
          optimizer.zeroGradients();
        }
        int done = step + 1;
        if (step == firstStep) {
          firstLoss = loss;
        }
        lastLoss = loss;
        Double validation = null;
        boolean evaluate = held.isPresent() && (done == total
            || (training.evalInterval() > 0 && done % training.evalInterval() == 0));
        if (evaluate) {
          validation = evaluate(held.get(), training.evalBatches());
          if (bestValidationLoss == null || validation < bestValidationLoss) {
            bestValidationLoss = validation;
          }
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        double stepSeconds = (System.nanoTime() - stepStart) / 1e9;
        double left = elapsed / (done - firstStep) * (total - done);
        StepReport report = new StepReport(done, total, loss, lr, norm, tokensPerStep / stepSeconds, validation,
            elapsed, left, (long) done * tokensPerStep, DeviceMemory.peakSinceLastCall(device));
        writeMetrics(metrics, report);
        listener.onStep(report);
        int interval = config.checkpoint().interval();
        if (launch.writesFiles() && (done == total || (interval > 0 && done % interval == 0))) {
          lastCheckpoint = Optional.of(save(checkpoints, done));
          listener.onCheckpoint(lastCheckpoint.get());
        }
      }
    } finally {
      autocast(false);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(firstStep, total, (long) (total - firstStep) * tokensPerStep, seconds, firstLoss, lastLoss,
        bestValidationLoss, output, lastCheckpoint, model.parameterCount());
  }

  private double evaluate(BatchSampler held, int batches) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      Tensor sum = null;
      for (int b = 0; b < batches; b++) {
        BatchSampler.Batch batch = held.batch(b, device);
        Tensor loss = model.loss(batch.inputs(), batch.targets()).to(torch.ScalarType.Double);
        sum = sum == null ? loss : sum.add(loss);
      }
      return averaged(sum.div(new org.bytedeco.pytorch.Scalar((double) batches))).item_double();
    }
  }

  /**
   * A scalar as a double, averaged over the processes: every process's shard is the same size, so the mean of the
   * shards' mean losses is the mean loss of the whole batch.
   */
  private Tensor averaged(Tensor scalar) {
    Tensor value = scalar.to(torch.ScalarType.Double);
    if (sync.worldSize() == 1) {
      return value;
    }
    Tensor flat = value.reshape(new long[] {1}).clone();
    sync.average(flat);
    return flat.select(0, 0);
  }

  private Path save(Path checkpoints, int step) throws IOException {
    String rng;
    try (PointerScope scope = new PointerScope()) {
      // The generator state is a fresh contiguous byte tensor; no intermediate handle to keep alive.
      Tensor state = torch.getDefaultCPUGenerator().get_state();
      byte[] bytes = new byte[Math.toIntExact(state.nbytes())];
      new BytePointer(state.data_ptr()).capacity(bytes.length).get(bytes);
      rng = Base64.getEncoder().encodeToString(bytes);
    }
    TrainState state = new TrainState(Checkpoint.FORMAT_VERSION, step, microBatches, config.training().seed(), rng,
        bestValidationLoss, launch.worldSize());
    return Checkpoint.save(checkpoints, configYaml, model, optimizer, state, config.checkpoint().keep());
  }

  /** bf16 autocast for CUDA ops; the cast cache stays off because weights change in place every step. */
  private void autocast(boolean on) {
    if (!device.is_cuda()) {
      return;
    }
    torch.set_autocast_enabled(torch.DeviceType.CUDA, on);
    if (on) {
      torch.set_autocast_dtype(torch.DeviceType.CUDA, torch.ScalarType.BFloat16);
      torch.set_autocast_cache_enabled(false);
    }
  }

  /**
   * {@code metrics.jsonl}, keeping only the lines of steps up to {@code keepUpTo} from an earlier run. The kept lines
   * replace the file by an atomic rename before anything is appended: truncating it in place lost the whole history
   * when the process was killed before the first step's line was flushed.
   */
  private BufferedWriter metricsLog(int keepUpTo) throws IOException {
    if (!launch.writesFiles()) {
      return new BufferedWriter(java.io.Writer.nullWriter());
    }
    Path file = output.resolve("metrics.jsonl");
    List<String> kept = List.of();
    if (keepUpTo > 0 && Files.exists(file)) {
      kept = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
          .filter(line -> stepOf(line) <= keepUpTo).toList();
    }
    Path temp = output.resolve(".metrics.jsonl.tmp");
    Checkpoint.writeText(temp, kept.stream().map(line -> line + "\n").collect(java.util.stream.Collectors.joining()));
    Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
  }

  private static long stepOf(String line) {
    try {
      return Checkpoint.JSON.readTree(line).path("step").asLong(Long.MAX_VALUE);
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  private static void writeMetrics(BufferedWriter metrics, StepReport r) throws IOException {
    var line = Checkpoint.JSON.createObjectNode();
    line.put("step", r.step());
    line.put("loss", r.loss());
    line.put("lr", r.learningRate());
    line.put("tokens_per_s", Math.round(r.tokensPerSecond()));
    line.put("grad_norm", r.gradNorm());
    if (r.validationLoss() != null) {
      line.put("val_loss", r.validationLoss());
    }
    if (r.devicePeakBytes() != null) {
      line.put("gpu_peak_gib", Math.round(r.devicePeakBytes() / 1073741824.0 * 100) / 100.0);
    }
    metrics.write(Checkpoint.JSON.writeValueAsString(line));
    metrics.newLine();
    metrics.flush();
  }
}
