package org.fastllm.dsl.layout;

import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;

/**
 * The tensors every block has around its mixer: the two pre-norms and the MLP, named {@code norm_1},
 * {@code norm_2}, {@code mlp.layer_1}, {@code mlp.layer_2}.
 *
 * <pre>{@code
 * // given BlockConfig config, List<TensorSpec> mixerTensors
 * BlockTensors.around(config, mixerTensors)
 * }</pre>
 */
public final class BlockTensors {
  private BlockTensors() {}

  /** norm_1, the mixer's tensors (already prefixed {@code mixer.}), norm_2 and the MLP, in that order. */
  public static List<TensorSpec> around(BlockConfig config, List<TensorSpec> mixer) {
    int hidden = config.hiddenSize();
    List<TensorSpec> all = new ArrayList<>(norm("norm_1", config.normalization(), hidden));
    all.addAll(mixer);
    int ffn = config.ffnHiddenSize();
    if (ffn > 0) {
      all.addAll(norm("norm_2", config.normalization(), hidden));
      boolean biases = config.addLinearBiases();
      long width = (config.gated() ? 2L : 1L) * ffn;
      all.addAll(linear("mlp.layer_1", width, hidden, biases));
      all.addAll(linear("mlp.layer_2", hidden, ffn, biases));
    }
    return List.copyOf(all);
  }

  /** The weight (and bias for layer_norm) of a normalization layer over {@code size} values. */
  public static List<TensorSpec> norm(String prefix, NormalizationConfig norm, long size) {
    TensorSpec weight = TensorSpec.other(prefix + ".weight", false, size);
    return norm.type() == NormType.LAYER_NORM
        ? List.of(weight, TensorSpec.bias(prefix, size))
        : List.of(weight);
  }

  /** A linear layer {@code [out, in]}, with a bias {@code [out]} when asked. */
  public static List<TensorSpec> linear(String prefix, long out, long in, boolean bias) {
    TensorSpec weight = TensorSpec.weight(prefix, out, in);
    return bias ? List.of(weight, TensorSpec.bias(prefix, out)) : List.of(weight);
  }
}
