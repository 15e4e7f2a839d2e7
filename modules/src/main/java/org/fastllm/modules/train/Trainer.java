package org.fastllm.modules.train;

import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.RngState;
import org.fastllm.modules.checkpoint.TrainState;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.data.Tokens;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.distributed.BatchShare;
import org.fastllm.modules.distributed.DistributedLaunch;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.distributed.ProcessGroupSync;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.optim.AdamWBuilder;
import org.fastllm.modules.optim.CopyConditions;
import org.fastllm.modules.optim.LearningRateSchedule;
import org.fastllm.modules.optim.ScheduleSegment;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.Precision;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * Trains a model from a resolved run config: builds it (seeded), draws batches, runs AdamW with the schedule,
 * evaluates the held-out split, writes {@code metrics.jsonl} and checkpoints, and can resume from one.
 *
 * <pre>{@code
 * // given ConfigDocument config, String yamlText, TrainingData data
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
  private final StepGraph stepGraph;
  private final String normReport;   // the kernel report's norm entry where an auto norm was turned off, or null
  private long microBatches;
  private int firstStep;
  private Double bestValidationLoss;
  private ScheduleSegment lrSegment;
  private Optional<String> scheduleChange = Optional.empty();

  /** What a finished run did: steps {@code firstStep + 1} to {@code lastStep} of {@code steps}. */
  public record Result(int firstStep, int lastStep, int steps, long tokens, double seconds, double firstLoss,
      double lastLoss, Double bestValidationLoss, Path output, Optional<Path> lastCheckpoint, long parameters) {
    /** True when a {@link StopRequest} ended the run before {@code training.steps}. */
    public boolean stopped() {
      return lastStep < steps;
    }
  }

  /** Called after each step, and after each checkpoint. */
  public interface Listener {
    void onStep(StepReport report);

    default void onCheckpoint(Path folder) {}
  }

  private Trainer(ConfigDocument config, String configYaml, LanguageModel model, AdamW optimizer, TrainingData data,
      Device device, boolean bf16, DistributedLaunch launch, GradientSync sync, String eager) {
    this.config = config;
    this.configYaml = configYaml;
    this.model = model;
    this.optimizer = optimizer;
    this.data = data;
    this.device = device;
    this.bf16 = bf16;
    this.output = Path.of(config.training().outputDir());
    this.launch = launch;
    this.sync = sync;
    this.stepGraph = new StepGraph(model, config.training().gradientAccumulation(), eager);
    this.normReport = StepGraph.normReport(config.training().kernels(), device, eager);
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
   * A kernel of {@code training.kernels} set to {@code on} that cannot run here fails before any tensor exists.
   */
  public static Trainer create(ConfigDocument resolved, String configYaml, TrainingData data,
      Optional<Checkpoint.Loaded> resume, DistributedLaunch launch) {
    TrainingConfig training = resolved.training();
    BatchShare.perProcess(training.batchSize(), launch.worldSize());
    resume.ifPresent(loaded -> requireSameWorld(loaded, launch));
    if (data.vocabSize() > resolved.model().vocabSize()) {
      throw new IllegalArgumentException("model.vocab_size is " + resolved.model().vocabSize()
          + " but the tokenizer produces ids up to " + (data.vocabSize() - 1) + "; set model.vocab_size to at least "
          + data.vocabSize());
    }
    Device device = TrainingDevice.of(training.device(), launch.localRank());
    if (device.is_cpu()) {
      TrainingDevice.limitThreadsOnSmallMachines();
    }
    boolean bf16 = training.precision() == Precision.BF16
        || (training.precision() == Precision.AUTO && device.is_cuda());
    torch.manual_seed(training.seed());
    String eager = StepGraph.unavailable(resolved.model(), device, launch.worldSize());
    LanguageModel model = StackBuilder.installed().build(resolved.model().withDefaults(),
        StepGraph.kernelsFor(training.kernels(), device, eager));
    if (!device.is_cpu()) {
      model.to(device, false);
    }
    // a replayed backward accumulates into the gradients it was recorded with: flat ones, zeroed in place, or
    // autograd's own, which the optimizer then zeroes in place (StepGraph.keepsGradients)
    boolean keptGradients = eager == null && !launch.distributed()
        && StepGraph.keepsGradients(model, training.kernels().bf16Copies());
    AdamWBuilder optimizer = optimizer(resolved, device, bf16, launch, eager == null && !keptGradients).check();
    GradientSync sync = launch.distributed() ? ProcessGroupSync.connect(launch, device) : GradientSync.NONE;
    AdamW adam = optimizer.build(model.uniqueParameters(), model.singleUseLinears());
    if (keptGradients) {
      adam.keepGradients();
    }
    Trainer trainer = new Trainer(resolved, configYaml, model, adam, data, device, bf16, launch, sync, eager);
    resume.ifPresent(trainer::restore);
    return trainer;
  }

  /**
   * The optimizer's update paths as {@code training.kernels} chooses them: the fused kernel, and bfloat16 copies
   * of the linear layers' weights where the run allows them ({@link CopyConditions}).
   */
  private static AdamWBuilder optimizer(ConfigDocument resolved, Device device, boolean bf16,
      DistributedLaunch launch, boolean replayedIntoFlatGradients) {
    KernelsConfig kernels = resolved.training().kernels();
    return AdamW.builder(resolved.optimizer())
        .fusedKernel(kernels.adamw())
        .flatGradients(launch.distributed() || replayedIntoFlatGradients)
        .bf16Copies(kernels.bf16Copies(), new CopyConditions(device.is_cuda(), bf16, launch.worldSize(),
            resolved.training().gradientAccumulation()));
  }

  private static void requireSameWorld(Checkpoint.Loaded loaded, DistributedLaunch launch) {
    int saved = loaded.state().processes();
    if (saved != launch.worldSize()) {
      throw new IllegalArgumentException("checkpoint " + loaded.folder() + " was saved by a run of " + saved
          + (saved == 1 ? " process" : " processes") + "; resume it with the same number (--nproc " + saved
          + " or WORLD_SIZE=" + saved + "), not " + launch.worldSize());
    }
  }

  private void restore(Checkpoint.Loaded loaded) {
    Checkpoint.restoreWeights(loaded, model);
    optimizer.weightsChanged();
    Checkpoint.restoreOptimizer(loaded, optimizer);
    TrainState state = loaded.state();
    microBatches = state.microBatches();
    firstStep = Math.toIntExact(state.step());
    bestValidationLoss = state.bestValidationLoss();
    ScheduleContinuation continuation = ScheduleContinuation.of(config.optimizer(), state, loaded.configYaml(),
        config.training().steps());
    lrSegment = continuation.segment();
    scheduleChange = continuation.changed();
    if (state.torchRng() != null) {
      RngState.restore(state.torchRng(), loaded.folder().resolve("state.json"));
    }
  }

  /**
   * Tells the optimizer that the model's weights were copied in from elsewhere (a run started from another's
   * weights) before the first step, so that copies it keeps of them follow.
   */
  public void weightsReplaced() {
    optimizer.weightsChanged();
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

  /**
   * The line saying how the learning rate continues when this run resumed a checkpoint with another
   * {@code training.steps}; empty otherwise.
   */
  public Optional<String> scheduleChange() {
    return scheduleChange;
  }

  public DistributedLaunch launch() {
    return launch;
  }

  /**
   * What runs in place of plain tensor operations, by {@code training.kernels} key (the optimizer's update paths),
   * as the first metrics line reports it.
   */
  public Map<String, String> kernels() {
    Map<String, String> kernels = new TreeMap<>(model.kernelReport());
    kernels.putAll(optimizer.kernels());
    if (device.is_cuda()) {
      kernels.put("graph", stepGraph.outcome());
    }
    if (normReport != null) {
      kernels.put("norm", normReport);
    }
    return kernels;
  }

  /** Leaves the process group, if any. */
  @Override
  public void close() {
    stepGraph.close();
    sync.close();
  }

  /** Trains from the current step to {@code training.steps}: each step, its evaluation, report and checkpoint. */
  public Result run(Listener listener) throws IOException {
    return run(listener, new StopRequest());
  }

  /**
   * As {@link #run(Listener)}, ending early after the step during which {@code stop} was requested: that step's
   * checkpoint is saved (whatever {@code checkpoint.interval} says), so that {@code --resume} continues exactly.
   */
  public Result run(Listener listener, StopRequest stop) throws IOException {
    TrainingConfig training = config.training();
    int total = training.steps();
    BatchSampler global = sampler(data.train(), training.seed());
    OptimizerStep optimizerStep = new OptimizerStep(model, optimizer, global.shard(launch.rank(), launch.worldSize()),
        device, sync, training.gradientAccumulation(), config.optimizer().gradClip(), stepGraph);
    Evaluation evaluation = new Evaluation(heldOut(), training.evalInterval(), training.evalBatches(), total, model,
        device, sync);
    if (lrSegment == null) {
      lrSegment = ScheduleSegment.whole(total);
    }
    LearningRateSchedule schedule = new LearningRateSchedule(config.optimizer(), lrSegment);
    Optional<Path> lastCheckpoint = Optional.empty();
    StepClock clock = new StepClock(firstStep, total, global.tokensPerBatch() * training.gradientAccumulation(),
        device);
    StopAgreement stopping = new StopAgreement(stop, sync, device);
    int step = firstStep;
    boolean stopsHere = false;
    try (Autocast autocast = Autocast.bf16(device, bf16); MetricsLog metrics = metricsLog()) {
      while (step < total && !stopsHere) {
        long stepStart = clock.stepStarts();
        double lr = schedule.at(step);
        OptimizerStep.Outcome outcome = optimizerStep.take(step, lr, microBatches);
        microBatches += optimizerStep.microBatches();
        Double validation = keepBest(evaluation.ifDue(step + 1));
        StepReport report = clock.report(step + 1, outcome, lr, validation, stepStart, stepGraph.uncountedBytes());
        metrics.write(report);
        listener.onStep(report);
        step++;
        stopsHere = step < total && stopping.stopsNow();
        Optional<Path> saved = checkpointIfDue(step, stopsHere);
        if (saved.isPresent()) {
          lastCheckpoint = saved;
          listener.onCheckpoint(saved.get());
        }
      }
    }
    return new Result(firstStep, step, total, (long) (step - firstStep) * clock.tokensPerStep(), clock.seconds(),
        clock.firstLoss(), clock.lastLoss(), bestValidationLoss, output, lastCheckpoint, model.parameterCount());
  }

  private BatchSampler sampler(Tokens tokens, long seed) {
    TrainingConfig training = config.training();
    return new BatchSampler(tokens, training.batchSize(), training.sequenceLength(), seed, config.model().vocabSize());
  }

  /** This process's share of the held-out batches; none where the split is shorter than one sequence. */
  private Optional<BatchSampler> heldOut() {
    TrainingConfig training = config.training();
    return data.validation().size() > training.sequenceLength()
        ? Optional.of(sampler(data.validation(), training.seed() ^ VALIDATION_SALT).shard(launch.rank(),
            launch.worldSize()))
        : Optional.empty();
  }

  private Double keepBest(Double validation) {
    if (validation != null && (bestValidationLoss == null || validation < bestValidationLoss)) {
      bestValidationLoss = validation;
    }
    return validation;
  }

  /** The metrics log of rank 0, keeping the lines of the steps before this run's first; nothing on other ranks. */
  private MetricsLog metricsLog() throws IOException {
    if (!launch.writesFiles()) {
      return MetricsLog.none();
    }
    Files.createDirectories(output);
    return MetricsLog.open(output, firstStep, this::kernels);
  }

  /** On rank 0, every {@code checkpoint.interval} steps, at the last step and where the run stops. */
  private Optional<Path> checkpointIfDue(int done, boolean stopsHere) throws IOException {
    int interval = config.checkpoint().interval();
    boolean due = stopsHere || done == config.training().steps() || (interval > 0 && done % interval == 0);
    if (!launch.writesFiles() || !due) {
      return Optional.empty();
    }
    TrainState state = new TrainState(Checkpoint.FORMAT_VERSION, done, microBatches, config.training().seed(),
        RngState.capture(), bestValidationLoss, launch.worldSize(), lrSegment);
    return Optional.of(Checkpoint.save(output.resolve("checkpoints"), configYaml, model, optimizer, state,
        config.checkpoint().keep()));
  }
}
