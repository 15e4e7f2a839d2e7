package org.fastllm.modules.lora;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.count.AdapterTensors;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.layer.Adapters;

/**
 * The adapters of one block (or of one use of a shared block), one per LoRA target, registered under the target's
 * name: {@code query.a}, {@code query.b}, ...
 *
 * <pre>{@code
 * // given TransformerBlockConfig block, ParameterLayout<TransformerBlockConfig> layout, Linear query, Tensor x
 * LoraAdapters lora = LoraAdapters.of(block.lora(), layout.tensors(block));
 * Tensor q = query.forward(x, lora);
 * }</pre>
 */
public final class LoraAdapters extends Module implements Adapters {
  private final Map<String, LoraAdapter> byTarget = new LinkedHashMap<>();

  private LoraAdapters() {}

  /**
   * Fresh adapters for the resolved LoRA config's targets, shaped as {@link AdapterTensors} lists them.
   *
   * @throws IllegalArgumentException when a target names no linear layer of the block
   */
  public static LoraAdapters of(LoraConfig config, List<TensorSpec> blockTensors) {
    List<String> unknown = AdapterTensors.unknownTargets(blockTensors, config);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("lora.targets: " + unknown + " name no linear layer of this block (it has: "
          + String.join(", ", AdapterTensors.linearLayers(blockTensors)) + ")");
    }
    LoraAdapters adapters = new LoraAdapters();
    for (String target : config.targets()) {
      TensorSpec weight = AdapterTensors.linearWeight(blockTensors, target);
      LoraAdapter adapter = LoraAdapter.fresh(weight.shape().get(0), weight.shape().get(1), config.rank(),
          config.alpha(), config.dropout());
      adapters.byTarget.put(target, adapters.register_module(target, adapter));
    }
    return adapters;
  }

  @Override
  public Tensor adapt(String target, Tensor input, Tensor base) {
    LoraAdapter adapter = byTarget.get(target);
    return adapter == null ? base : base.add(adapter.delta(input));
  }

  public Map<String, LoraAdapter> byTarget() {
    return Map.copyOf(byTarget);
  }
}
