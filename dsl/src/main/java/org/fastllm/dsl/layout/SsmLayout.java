package org.fastllm.dsl.layout;

import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.config.SsmBlockConfig;

/**
 * Parameters of an ssm block, per variant, as Fast-LLM defines its mixers.
 *
 * <ul>
 *   <li>mamba1: in_proj {@code [2*d_inner, H]}, conv1d {@code [d_inner, 1, k]} (a bias when conv_bias), x_proj
 *       {@code [dt_rank + 2*state, d_inner]}, dt_proj {@code [d_inner, dt_rank]} + bias, A_log
 *       {@code [d_inner, state]}, D {@code [d_inner]}, out_proj {@code [H, d_inner]}; no linear biases.
 *   <li>mamba2: in_proj {@code [2*d_inner + 2*d_xb, H]}, dt_in_proj {@code [dt_rank, H]}, dt_proj
 *       {@code [d_inner, dt_rank]} + bias, conv1d over d_inner (or d_xb when not repeating before the conv) with
 *       bias, A_log, D, out_proj.
 *   <li>discrete_mamba2: in_proj {@code [2*d_inner + 2*n_qk_heads*state + n_v_heads, H]}, z_bias {@code [d_inner]}
 *       when the linears have no bias, conv1d over {@code d_inner + 2*n_qk_heads*state} with bias, D
 *       {@code [n_v_heads]}, out_proj.
 *   <li>mamba2_standard, named as transformers' {@code Mamba2Mixer} names them, with {@code H = d_inner / head_size}
 *       heads and {@code G = n_groups}: in_proj {@code [2*d_inner + 2*G*state + H, hidden]}, conv1d over
 *       {@code d_inner + 2*G*state} (bias when conv_bias), dt_bias, A_log and D {@code [H]}, norm.weight
 *       {@code [d_inner]}, out_proj; the linears' biases when add_linear_biases.
 * </ul>
 */
public final class SsmLayout implements ParameterLayout<SsmBlockConfig> {

  @Override
  public List<TensorSpec> tensors(SsmBlockConfig c) {
    List<TensorSpec> mixer = switch (c.variant()) {
      case MAMBA1 -> mamba1(c);
      case MAMBA2 -> mamba2(c);
      case DISCRETE_MAMBA2 -> discreteMamba2(c);
      case MAMBA2_STANDARD -> mamba2Standard(c);
    };
    return BlockTensors.around(c, mixer);
  }

  private static List<TensorSpec> mamba1(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    long inner = c.dInner();
    long state = c.stateSize();
    long rank = c.dtRank().value();
    List<TensorSpec> t = new ArrayList<>();
    t.add(TensorSpec.weight("mixer.in_proj", Math.multiplyExact(2L, inner), hidden));
    t.add(TensorSpec.other("mixer.conv1d.weight", true, inner, 1, c.convKernelSize()));
    if (Boolean.TRUE.equals(c.convBias())) {
      t.add(TensorSpec.bias("mixer.conv1d", inner));
    }
    t.add(TensorSpec.weight("mixer.x_proj", Math.addExact(rank, 2 * state), inner));
    t.add(TensorSpec.weight("mixer.dt_proj", inner, rank));
    t.add(TensorSpec.bias("mixer.dt_proj", inner));
    t.add(TensorSpec.other("mixer.A_log", false, inner, state));
    t.add(TensorSpec.other("mixer.D", false, inner));
    t.add(TensorSpec.weight("mixer.out_proj", hidden, inner));
    return t;
  }

  private static List<TensorSpec> mamba2(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    long inner = c.dInner();
    long xb = c.dXb();
    long state = c.stateSize();
    long rank = c.dtRank().value();
    long conv = c.repeatKvBeforeConv() ? inner : xb;
    boolean biases = c.addLinearBiases();
    List<TensorSpec> t = new ArrayList<>();
    long projected = Math.addExact(Math.multiplyExact(2L, inner), Math.multiplyExact(2L, xb));
    t.addAll(BlockTensors.linear("mixer.in_proj", projected, hidden, biases));
    t.addAll(BlockTensors.linear("mixer.dt_in_proj", rank, hidden, biases));
    t.add(TensorSpec.weight("mixer.dt_proj", inner, rank));
    t.add(TensorSpec.bias("mixer.dt_proj", inner));
    t.add(TensorSpec.other("mixer.conv1d.weight", true, conv, 1, c.convKernelSize()));
    t.add(TensorSpec.bias("mixer.conv1d", conv));
    t.add(TensorSpec.other("mixer.A_log", false, inner, state));
    t.add(TensorSpec.other("mixer.D", false, inner));
    t.addAll(BlockTensors.linear("mixer.out_proj", hidden, inner, biases));
    return t;
  }

  private static List<TensorSpec> mamba2Standard(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    long inner = c.dInner();
    long heads = c.numHeads();
    long bc = Math.multiplyExact((long) c.nGroups(), c.stateSize());
    long conv = Math.addExact(inner, Math.multiplyExact(2L, bc));
    boolean biases = c.addLinearBiases();
    List<TensorSpec> t = new ArrayList<>();
    t.addAll(BlockTensors.linear("mixer.in_proj", Math.addExact(Math.addExact(inner, conv), heads), hidden, biases));
    t.add(TensorSpec.other("mixer.conv1d.weight", true, conv, 1, c.convKernelSize()));
    if (c.convBias()) {
      t.add(TensorSpec.bias("mixer.conv1d", conv));
    }
    t.add(TensorSpec.other("mixer.dt_bias", false, heads));
    t.add(TensorSpec.other("mixer.A_log", false, heads));
    t.add(TensorSpec.other("mixer.D", false, heads));
    t.add(TensorSpec.other("mixer.norm.weight", false, inner));
    t.addAll(BlockTensors.linear("mixer.out_proj", hidden, inner, biases));
    return t;
  }

  private static List<TensorSpec> discreteMamba2(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    long inner = c.dInner();
    long bc = Math.multiplyExact((long) c.nQkHeads(), c.stateSize());
    long heads = c.nVHeads();
    boolean biases = c.addLinearBiases();
    long projected = Math.addExact(Math.addExact(Math.multiplyExact(2L, inner), Math.multiplyExact(2L, bc)), heads);
    long conv = Math.addExact(inner, 2 * bc);
    List<TensorSpec> t = new ArrayList<>();
    t.addAll(BlockTensors.linear("mixer.in_proj", projected, hidden, biases));
    if (!biases) {
      t.add(TensorSpec.other("mixer.z_bias", false, inner));
    }
    t.add(TensorSpec.other("mixer.conv1d.weight", true, conv, 1, c.convKernelSize()));
    t.add(TensorSpec.bias("mixer.conv1d", conv));
    t.add(TensorSpec.other("mixer.D", false, heads));
    t.addAll(BlockTensors.linear("mixer.out_proj", hidden, inner, biases));
    return t;
  }
}
