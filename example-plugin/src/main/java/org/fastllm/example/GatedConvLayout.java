package org.fastllm.example;

import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.layout.BlockTensors;
import org.fastllm.dsl.layout.ParameterLayout;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * Parameters of a gated_conv block, with {@code E = expansion x H}: {@code mixer.in_proj [2E, H]},
 * {@code mixer.conv.weight [E, 1, kernel_size]} and {@code mixer.conv.bias [E]}, {@code mixer.out_proj [H, E]}
 * (the two projections with biases when {@code add_linear_biases}), around the common norms and MLP.
 *
 * <pre>{@code
 * // given GatedConvBlockConfig resolved
 * new GatedConvLayout().tensors(resolved)  // norm_1.weight [H], ..., mixer.in_proj.weight [2E, H], ...
 * }</pre>
 */
public final class GatedConvLayout implements ParameterLayout<GatedConvBlockConfig> {

  @Override
  public List<TensorSpec> tensors(GatedConvBlockConfig c) {
    long hidden = c.hiddenSize();
    long inner = Math.multiplyExact((long) c.expansion(), hidden);
    boolean biases = c.addLinearBiases();
    List<TensorSpec> mixer = new ArrayList<>();
    mixer.addAll(BlockTensors.linear("mixer.in_proj", Math.multiplyExact(2L, inner), hidden, biases));
    mixer.add(TensorSpec.other("mixer.conv.weight", true, inner, 1, c.kernelSize()));
    mixer.add(TensorSpec.bias("mixer.conv", inner));
    mixer.addAll(BlockTensors.linear("mixer.out_proj", hidden, inner, biases));
    return BlockTensors.around(c, mixer);
  }
}
