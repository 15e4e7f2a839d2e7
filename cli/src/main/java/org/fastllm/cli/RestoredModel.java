package org.fastllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DeviceChoice;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.train.TrainingDevice;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * The model of a checkpoint or imported folder, built from its config and holding its weights, for the commands
 * that use a trained model ({@code eval}, {@code generate}).
 *
 * <pre>{@code
 * // given java.nio.file.Path checkpoint, ConfigDocument run, PrintWriter err
 * Optional<InitialWeights> weights = RestoredModel.weights(checkpoint, err);   // empty: the reason is printed
 * Optional<RestoredModel.Placement> placed = RestoredModel.placement(run.training().device(), "float32", err);
 * RestoredModel.Placement where = placed.get();
 * Optional<LanguageModel> model = RestoredModel.of(weights.get(), run, where.device(), where.type(), err);
 * }</pre>
 */
final class RestoredModel {
  private RestoredModel() {}

  /** The weights of a checkpoint, run folder or imported folder; empty, the reason printed, when it is none. */
  static Optional<InitialWeights> weights(Path checkpoint, PrintWriter err) throws IOException {
    try {
      return Optional.of(InitialWeights.read(checkpoint));
    } catch (CheckpointException e) {
      err.println("error: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** Where a restored model runs, and the type its weights take there. */
  record Placement(Device device, WeightType type) {}

  /**
   * The device {@code choice} names and the weight type {@code dtype} names on it; empty, the reason printed, when
   * this host cannot use the device (no CUDA device) or the type is refused.
   */
  static Optional<Placement> placement(DeviceChoice choice, String dtype, PrintWriter err) {
    Device on;
    try {
      on = TrainingDevice.of(choice);
    } catch (IllegalStateException e) {
      err.println("error: " + e.getMessage());
      return Optional.empty();
    }
    return WeightType.parse(dtype, on, err).map(type -> new Placement(on, type));
  }

  /**
   * The model of {@code run} with {@code weights}, on {@code on}, its weights in {@code type}; empty, the differences
   * printed, when they differ.
   */
  static Optional<LanguageModel> of(InitialWeights weights, ConfigDocument run, Device on, WeightType type,
      PrintWriter err) {
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    List<String> differences = weights.differences(model);
    if (!differences.isEmpty()) {
      err.println("error: " + weights.folder() + ": its weights do not fit the model of its config.yaml:");
      differences.forEach(d -> err.println("  " + d));
      return Optional.empty();
    }
    weights.copyInto(model);
    if (!on.is_cpu()) {
      model.to(on, false);
    }
    if (type != WeightType.FLOAT32) {
      model.to(type.scalarType(), false);
    }
    return Optional.of(model);
  }
}
