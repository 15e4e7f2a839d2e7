package org.fastllm.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DeviceChoice;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.modules.train.TrainingDevice;

/**
 * A rough estimate of the memory a training run needs, from the config alone: parameters in fp32 (4 bytes each),
 * their gradients (4), AdamW's two moments (8), and activations of about {@value #ACTIVATION_FLOATS} floats per
 * token, hidden unit and layer plus three of the vocabulary's size per token (logits, their softmax and gradient),
 * at the configured batch and sequence length. It ignores attention's sequence-squared scores and libtorch's own
 * overhead, so a run near the limit may still not fit; one far above it never does.
 */
record MemoryEstimate(double parameters, double gradients, double optimizer, double activations, int batch,
    int sequence) {
  static final int ACTIVATION_FLOATS = 16;
  private static final double GIB = 1024.0 * 1024 * 1024;

  /**
   * Why a run on the CPU cannot fit, before any tensor or file exists: its estimate exceeds the machine's memory.
   * Empty for a CUDA run (not checked) or where the machine's memory cannot be read.
   */
  static Optional<String> refusal(ModelCount count, ConfigDocument run) {
    DeviceChoice choice = run.training().device();
    OptionalLong physical = physicalBytes();
    if (choice == DeviceChoice.CUDA || physical.isEmpty() || TrainingDevice.of(choice).is_cuda()) {
      return Optional.empty();
    }
    return of(count, run).refusalOnCpu(physical.getAsLong());
  }

  static MemoryEstimate of(ModelCount count, ConfigDocument run) {
    ModelConfig model = run.model();
    TrainingConfig training = run.training();
    double tokens = (double) training.batchSize() * training.sequenceLength();
    double perToken = (double) ACTIVATION_FLOATS * model.hiddenSize() * model.numLayers() + 3.0 * model.vocabSize();
    return new MemoryEstimate(4.0 * count.total(), 4.0 * count.trainable(), 8.0 * count.trainable(),
        4.0 * tokens * perToken, training.batchSize(), training.sequenceLength());
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
    if (total() <= physicalBytes) {
      return Optional.empty();
    }
    return Optional.of("the run needs " + render() + ", more than this machine's " + gib(physicalBytes)
        + " of memory; make the model, the batch or the sequence smaller, or train on a GPU");
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

  private static String gib(double bytes) {
    return String.format(Locale.ROOT, bytes >= 10 * GIB ? "%,.0f GiB" : "%.2f GiB", bytes / GIB);
  }
}
