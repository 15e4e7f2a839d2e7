package org.fastllm.cli.interop;

import java.util.ArrayList;
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
 *
 * <pre>{@code
 * // given List<LayerPlan> layers, Map<String, Integer> firstUse, Map<String, Tensor> stored
 * Map<String, Tensor> merged = LoraMerge.merged(LoraMerge.adapted(layers, firstUse, stored));
 * }</pre>
 */
final class LoraMerge {
  private LoraMerge() {}

  /**
   * One adapted linear layer at one layer of the stack: {@code weight} is the block's tensor name (e.g.
   * {@code mixer.query.weight}), {@code base} the stored weight the layer uses, {@code a} and {@code b} its adapter.
   */
  record Adapted(int layer, String weight, Tensor base, Tensor a, Tensor b, LoraConfig lora) {
    /** PEFT's and this tool's scale of the update: {@code alpha / rank}. */
    double scale() {
      return (lora.alpha() == null ? lora.rank() : lora.alpha()) / lora.rank();
    }

    /** The name of the adapted weight in the whole model: {@code layers.<i>.<weight>}. */
    String name() {
      return "layers." + layer + "." + weight;
    }
  }

  /** The merged weight of every adapted linear layer, under {@code layers.<i>.<weight name>} of each layer. */
  static Map<String, Tensor> merged(List<Adapted> adapted) {
    Map<String, Tensor> merged = new LinkedHashMap<>();
    for (Adapted a : adapted) {
      merged.put(a.name(), a.base().add(a.b().matmul(a.a()).mul(new Scalar(a.scale()))));
    }
    return merged;
  }

  /**
   * Every adapted linear layer, layer by layer in stack order: a shared block's base is stored at its first use; its
   * adapters there too, unless {@code per_use}, where each use has its own under {@code adapters.<i>.}.
   */
  static List<Adapted> adapted(List<LayerPlan> layers, Map<String, Integer> firstUse, Map<String, Tensor> stored) {
    List<Adapted> adapted = new ArrayList<>();
    for (LayerPlan layer : layers) {
      BlockConfig config = layer.config();
      LoraConfig lora = config.lora();
      if (lora == null) {
        continue;
      }
      int base = layer.shared() ? firstUse.get(layer.blockName()) : layer.index();
      String adapters = layer.shared() && Boolean.TRUE.equals(lora.perUse())
          ? "adapters." + layer.index() + "." : "layers." + base + ".lora.";
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
        adapted.add(new Adapted(layer.index(), t.name(), weight, a, b, lora));
      }
    }
    return adapted;
  }
}
