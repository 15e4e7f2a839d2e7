package org.fastllm.dsl.pattern;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;

/**
 * The expanded stack: one {@link LayerPlan} per layer, the pattern repeated to {@code num_layers}.
 *
 * <pre>{@code
 * // given ModelConfig resolvedModel
 * StackPlan plan = BlockPattern.expand(resolvedModel);
 * plan.layers().size();            // num_layers
 * plan.positionsOf("bob");         // [1, 4, 6, 9, 11, 14]
 * }</pre>
 *
 * @param model the resolved model the plan was made from
 * @param cutAt where the last repetition of the pattern was cut short (the pattern index it stopped before), if so
 */
public record StackPlan(ModelConfig model, List<LayerPlan> layers, Optional<Integer> cutAt) {

  public StackPlan {
    layers = List.copyOf(layers);
  }

  /** The layer indices at which the named block is used. */
  public List<Integer> positionsOf(String blockName) {
    return layers.stream().filter(l -> l.blockName().equals(blockName)).map(LayerPlan::index).toList();
  }

  /** How many layers use each block, in the order of {@code model.blocks} (unused blocks have 0). */
  public Map<String, Integer> usesByBlock() {
    Map<String, Integer> uses = new LinkedHashMap<>();
    model.blocks().keySet().forEach(name -> uses.put(name, 0));
    layers.forEach(l -> uses.merge(l.blockName(), 1, Integer::sum));
    return uses;
  }

  public BlockConfig block(String name) {
    return model.blocks().get(name);
  }
}
