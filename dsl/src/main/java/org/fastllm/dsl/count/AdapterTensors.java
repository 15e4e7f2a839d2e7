package org.fastllm.dsl.count;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * The LoRA adapter tensors of one adapter set (one block instance, or one use of a shared block with
 * {@code per_use}): for each target linear {@code W [out, in]}, {@code <target>.a [rank, in]} and
 * {@code <target>.b [out, rank]}, in the order of {@code lora.targets}.
 *
 * <pre>{@code
 * // given ParameterLayout<TransformerBlockConfig> layout, TransformerBlockConfig bob
 * AdapterTensors.of(layout.tensors(bob), bob.lora())  // [query.a [8, 1024], query.b [1024, 8], ...]
 * }</pre>
 *
 * <p><b>The built adapters hold exactly these tensors.</b> A target that names no linear layer of the block is left
 * out here; {@link #unknownTargets} lists such targets so that callers can refuse them.
 */
public final class AdapterTensors {
  private AdapterTensors() {}

  /** The adapter tensors for the resolved LoRA config over a block's tensors; none when {@code lora} is null. */
  public static List<TensorSpec> of(List<TensorSpec> blockTensors, LoraConfig lora) {
    if (lora == null) {
      return List.of();
    }
    List<TensorSpec> adapters = new ArrayList<>(2 * lora.targets().size());
    for (String target : lora.targets()) {
      TensorSpec weight = linearWeight(blockTensors, target);
      if (weight != null) {
        long out = weight.shape().get(0);
        long in = weight.shape().get(1);
        adapters.add(TensorSpec.other(target + ".a", false, lora.rank(), in));
        adapters.add(TensorSpec.other(target + ".b", false, out, lora.rank()));
      }
    }
    return List.copyOf(adapters);
  }

  /** The number of values of one adapter set. */
  public static long count(List<TensorSpec> blockTensors, LoraConfig lora) {
    long n = 0;
    for (TensorSpec t : of(blockTensors, lora)) {
      n = Math.addExact(n, t.numel());
    }
    return n;
  }

  /** The targets of {@code lora} that name no linear layer of the block, in config order. */
  public static List<String> unknownTargets(List<TensorSpec> blockTensors, LoraConfig lora) {
    return lora == null
        ? List.of()
        : lora.targets().stream().filter(t -> linearWeight(blockTensors, t) == null).toList();
  }

  /** The LoRA target names of a block's linear layers, in layout order. */
  public static List<String> linearLayers(List<TensorSpec> blockTensors) {
    return blockTensors.stream().map(TensorSpec::linear).filter(Objects::nonNull).toList();
  }

  /** The weight of the linear layer a target names, or null. */
  public static TensorSpec linearWeight(List<TensorSpec> blockTensors, String target) {
    for (TensorSpec t : blockTensors) {
      if (target.equals(t.linear())) {
        return t;
      }
    }
    return null;
  }
}
