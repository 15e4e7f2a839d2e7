package org.fastllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DeviceChoice;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.Precision;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.modules.train.DeviceMemory;
import org.fastllm.modules.train.TrainingDevice;

/**
 * A rough estimate of the memory one training process needs, from the config alone: parameters in fp32 (4 bytes
 * each), their gradients (4), AdamW's two moments (8), and activations of about {@value #ACTIVATION_FLOATS} fp32
 * floats per token, hidden unit and layer plus three of the vocabulary's size per token (logits, their softmax and
 * gradient), at the process's share of the batch and the sequence length. Attention layers whose block sets
 * {@code use_flash_attention: false} add their score matrices: batch x heads x T x T values per layer at the
 * activation dtype (2 bytes where the run computes in bf16: {@code precision: bf16}, or {@code auto} with
 * {@code device: cuda}; else 4). The fused kernel never holds them, so flash layers add nothing. It ignores
 * libtorch's own overhead, so a run near the limit may still not fit; one far above it never does.
 */
record MemoryEstimate(double parameters, double gradients, double optimizer, double activations, int batch,
    int sequence) {
  static final int ACTIVATION_FLOATS = 16;
  private static final double GIB = 1024.0 * 1024 * 1024;

  /**
   * Why the run cannot fit, before any tensor or file exists: on the CPU its estimate times the {@code local}
   * processes of this host exceeds the machine's memory; on CUDA one process's estimate exceeds the device's free
   * memory (checked by each process of {@code --nproc}, not by its launcher). Empty where the memory cannot be read
   * or the CUDA device is missing (training reports that).
   *
   * @param processes the processes sharing every batch (each holds a full replica)
   * @param local those of them on this host that this command starts ({@code --nproc}), 1 otherwise
   */
  static Optional<String> refusal(ModelCount count, ConfigDocument run, int processes, int local, int localRank) {
    DeviceChoice choice = run.training().device();
    MemoryEstimate estimate = of(count, run, processes);
    Device device;
    try {
      device = TrainingDevice.of(choice, localRank);
    } catch (IllegalStateException e) {
      return Optional.empty();
    }
    if (device.is_cuda()) {
      // Asking CUDA makes a context that holds GPU memory until the process ends: the --nproc launcher leaves the
      // check to its processes, which train on that device anyway.
      return local > 1 ? Optional.empty() : DeviceMemory.cuda(Math.max(device.index(), 0))
          .flatMap(m -> estimate.refusalOnCuda(m.free(), m.total()));
    }
    OptionalLong physical = physicalBytes();
    return physical.isEmpty() ? Optional.empty() : estimate.refusalOnCpu(physical.getAsLong(), local);
  }

  static MemoryEstimate of(ModelCount count, ConfigDocument run) {
    return of(count, run, 1);
  }

  /** The estimate of one of {@code processes} processes, each with its share of the batch. */
  static MemoryEstimate of(ModelCount count, ConfigDocument run, int processes) {
    ModelConfig model = run.model();
    TrainingConfig training = run.training();
    int batch = Math.max(1, -Math.floorDiv(-training.batchSize(), processes));
    double tokens = (double) batch * training.sequenceLength();
    double perToken = (double) ACTIVATION_FLOATS * model.hiddenSize() * model.numLayers() + 3.0 * model.vocabSize();
    double scores = (double) batch * explicitAttentionHeads(model) * training.sequenceLength()
        * training.sequenceLength() * activationBytes(training);
    return new MemoryEstimate(4.0 * count.total(), 4.0 * count.trainable(), 8.0 * count.trainable(),
        4.0 * tokens * perToken + scores, batch, training.sequenceLength());
  }

  /** The heads of every layer whose attention block takes the explicit (non-flash) path, summed over the layers. */
  static long explicitAttentionHeads(ModelConfig model) {
    List<String> pattern = model.blockPattern();
    if (pattern == null || pattern.isEmpty() || model.blocks() == null || model.numLayers() == null) {
      return 0;
    }
    long heads = 0;
    for (int layer = 0; layer < model.numLayers(); layer++) {
      BlockConfig block = model.blocks().get(pattern.get(layer % pattern.size()));
      if (block instanceof TransformerBlockConfig t && Boolean.FALSE.equals(t.useFlashAttention())) {
        heads += t.numHeads() == null ? TransformerBlockConfig.DEFAULT_NUM_HEADS : t.numHeads();
      }
    }
    return heads;
  }

  /** Bytes of one activation: 2 where the run computes in bf16, else 4. */
  static int activationBytes(TrainingConfig training) {
    boolean bf16 = training.precision() == Precision.BF16
        || (training.precision() == Precision.AUTO && training.device() == DeviceChoice.CUDA);
    return bf16 ? 2 : 4;
  }

  double total() {
    return parameters + gradients + optimizer + activations;
  }

  /** One line: the total and its parts. */
  String render() {
    return String.format(Locale.ROOT, "about %s (a rough estimate): parameters %s (fp32), gradients %s, AdamW moments"
        + " %s, activations %s at batch %d x sequence %d", gib(total()), gib(parameters), gib(gradients),
        gib(optimizer), gib(activations), batch, sequence);
  }

  /** Why a run of this estimate cannot train on a CPU of {@code physicalBytes}, if it cannot. */
  Optional<String> refusalOnCpu(long physicalBytes) {
    return refusalOnCpu(physicalBytes, 1);
  }

  /** Why {@code processes} processes of this estimate cannot train together on a CPU of {@code physicalBytes}. */
  Optional<String> refusalOnCpu(long physicalBytes, int processes) {
    MemoryEstimate all = times(processes);
    if (all.total() <= physicalBytes) {
      return Optional.empty();
    }
    return Optional.of((processes == 1 ? "the run needs " : "the " + processes + " processes of --nproc need ")
        + all.render() + (processes == 1 ? "" : " each") + ", more than this machine's " + gib(physicalBytes)
        + " of memory; make the model, the batch or the sequence smaller, " + (processes == 1 ? "" : "use fewer "
        + "processes, ") + "or train on a GPU");
  }

  /** Why one process of this estimate cannot train on a GPU with {@code freeBytes} of {@code totalBytes} free. */
  Optional<String> refusalOnCuda(long freeBytes, long totalBytes) {
    if (total() <= freeBytes) {
      return Optional.empty();
    }
    return Optional.of("the run needs " + render() + " per process, more than the GPU's " + gib(freeBytes)
        + " free (of " + gib(totalBytes) + "); make the model, the batch or the sequence smaller, use more "
        + "processes (--nproc) or a larger GPU");
  }

  /** {@code processes} such processes on one host together; the batch shown stays one process's. */
  private MemoryEstimate times(int processes) {
    return new MemoryEstimate(processes * parameters, processes * gradients, processes * optimizer,
        processes * activations, batch, sequence);
  }

  /** The machine's physical memory ({@code MemTotal} of {@code /proc/meminfo}), when it can be read. */
  static OptionalLong physicalBytes() {
    try {
      return Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal:"))
          .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024).findFirst();
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  static String gib(double bytes) {
    return String.format(Locale.ROOT, bytes >= 10 * GIB ? "%,.0f GiB" : "%.2f GiB", bytes / GIB);
  }
}
