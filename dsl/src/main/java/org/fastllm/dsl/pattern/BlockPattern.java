package org.fastllm.dsl.pattern;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.config.ModelConfig;

/**
 * Expands {@code block_pattern} to {@code num_layers} layers.
 *
 * <pre>{@code
 * // given ModelConfig model
 * // block_pattern: [alice, bob, claire, dave, bob], num_layers: 15
 * BlockPattern.expand(model).layers().size()  // 15; bob at 1, 4, 6, 9, 11, 14
 * }</pre>
 *
 * <p><b>The model must be resolved and valid:</b> every pattern name defined, {@code num_layers >= 1}.
 */
public final class BlockPattern {
  private BlockPattern() {}

  public static StackPlan expand(ModelConfig model) {
    List<String> pattern = model.blockPattern();
    int numLayers = model.numLayers();
    List<LayerPlan> layers = new ArrayList<>(numLayers);
    java.util.Map<String, Integer> uses = new java.util.HashMap<>();
    for (int i = 0; i < numLayers; i++) {
      String name = pattern.get(i % pattern.size());
      int use = uses.merge(name, 1, Integer::sum) - 1;
      layers.add(new LayerPlan(i, name, model.blocks().get(name), use));
    }
    int remainder = numLayers % pattern.size();
    Optional<Integer> cut = remainder == 0 ? Optional.empty() : Optional.of(remainder);
    return new StackPlan(model, layers, cut);
  }

  /** The warning for a pattern cut short, naming where, or empty when the pattern fits. */
  public static Optional<String> cutWarning(ModelConfig model) {
    List<String> pattern = model.blockPattern();
    int remainder = model.numLayers() % pattern.size();
    if (remainder == 0) {
      return Optional.empty();
    }
    int full = model.numLayers() / pattern.size();
    return Optional.of("num_layers " + model.numLayers() + " is not a multiple of the pattern's length "
        + pattern.size() + ": the pattern repeats " + full + " time" + (full == 1 ? "" : "s")
        + " and the last repetition stops after '" + pattern.get(remainder - 1) + "' (block_pattern[" + (remainder - 1)
        + "]), leaving out " + String.join(", ", pattern.subList(remainder, pattern.size())));
  }
}
