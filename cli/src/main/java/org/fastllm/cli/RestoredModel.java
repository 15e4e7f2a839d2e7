package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * The model of a checkpoint or imported folder, built from its config and holding its weights, for the commands
 * that use a trained model ({@code eval}, {@code generate}).
 *
 * <pre>{@code
 * // given InitialWeights weights, ConfigDocument run, org.bytedeco.pytorch.Device on, PrintWriter err
 * Optional<LanguageModel> model = RestoredModel.of(weights, run, on, err);   // empty: the reason is printed
 * }</pre>
 */
final class RestoredModel {
  private RestoredModel() {}

  /** The model of {@code run} with {@code weights}, on {@code on}; empty, the differences printed, when they differ. */
  static Optional<LanguageModel> of(InitialWeights weights, ConfigDocument run, Device on, PrintWriter err) {
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
    return Optional.of(model);
  }
}
