package org.fastllm.cli.interop;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.validation.load.ConfigLoader;

/**
 * LoRA adapters folded into their base weights, per layer: {@code W + (alpha / rank) B A}. A shared block with
 * per-use adapters gets a different merged weight at each use, which the export writes as a copy per layer anyway.
 */
final class LoraMerge {
  private LoraMerge() {}

  /** The merged weight of every adapted linear layer, under {@code layers.<i>.<weight name>} of each layer. */
  static Map<String, Tensor> merged(List<LayerPlan> layers, Map<String, Integer> firstUse, Map<String, Tensor> stored) {
    Map<String, Tensor> merged = new LinkedHashMap<>();
    for (LayerPlan layer : layers) {
      BlockConfig config = layer.config();
      LoraConfig lora = config.lora();
      if (lora == null) {
        continue;
      }
      int base = layer.shared() ? firstUse.get(layer.blockName()) : layer.index();
      String adapters = layer.shared() && Boolean.TRUE.equals(lora.perUse())
          ? "adapters." + layer.index() + "." : "layers." + base + ".lora.";
      double scale = (lora.alpha() == null ? lora.rank() : lora.alpha()) / lora.rank();
      for (TensorSpec t : ConfigLoader.standard().kinds().kind(config.kind()).tensors(config)) {
        if (t.linear() == null || !t.name().endsWith(".weight") || !lora.targets().contains(t.linear())) {
          continue;
        }
        Tensor a = stored.get(adapters + t.linear() + ".a");
        Tensor b = stored.get(adapters + t.linear() + ".b");
        Tensor weight = stored.get("layers." + base + "." + t.name());
        if (a == null || b == null || weight == null) {
          throw new InteropException("adapter " + adapters + t.linear() + " or its base weight is missing from the "
              + "weights");
        }
        merged.put("layers." + layer.index() + "." + t.name(), weight.add(b.matmul(a).mul(new Scalar(scale))));
      }
    }
    return merged;
  }
}
