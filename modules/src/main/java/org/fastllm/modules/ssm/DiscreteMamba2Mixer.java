package org.fastllm.modules.ssm;

import org.fastllm.modules.layer.Parameters;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Split;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.CausalConv;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.ParameterInit;
import java.util.function.UnaryOperator;

/**
 * Fast-LLM's discrete Mamba 2 mixer (Llamba): {@code [xBC, z, a] = in_proj(h)}, {@code xBC = silu(causal_conv(xBC))}
 * split into x ({@code n_v_heads} heads of {@code d_inner/n_v_heads}) and B, C ({@code n_qk_heads} groups of
 * {@code state}); per head the scan {@code h_t = exp(-softplus(a_t)) h_(t-1) + x_t B_t^T}, {@code y_t = h_t C_t},
 * in chunks of {@code chunk_size}; then {@code (y + D x) * silu(z + z_bias)} and {@code out_proj}.
 *
 * <pre>{@code
 * // given SsmBlockConfig resolvedSsmBlock
 * DiscreteMamba2Mixer mixer = DiscreteMamba2Mixer.of(resolvedSsmBlock);  // variant: discrete_mamba2
 * }</pre>
 *
 * <p>Fast-LLM feeds the kernel {@code x / dt} with step {@code dt}; the two cancel, so x enters unscaled here.
 * v head {@code h} reads B and C of qk head {@code h / (n_v_heads / n_qk_heads)}.
 */
public final class DiscreteMamba2Mixer extends ScalarDecayMixer {
  private final Linear inProj;
  private final Tensor zBias;
  private final CausalConv conv;
  private final Tensor skip;
  private final Linear outProj;
  private final long inner;
  private final long bc;
  private final long vHeads;
  private final long qkHeads;
  private final long state;
  private final ScalarDecayScan scan;

  private DiscreteMamba2Mixer(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    this.inner = c.dInner();
    this.state = c.stateSize();
    this.vHeads = c.nVHeads();
    this.qkHeads = c.nQkHeads();
    this.bc = qkHeads * state;
    if (inner % vHeads != 0 || vHeads % qkHeads != 0) {
      throw new IllegalArgumentException("discrete_mamba2 needs d_inner (" + inner + ") to be a multiple of"
          + " n_v_heads (" + vHeads + ") and n_v_heads a multiple of n_qk_heads (" + qkHeads + ")");
    }
    this.scan = new ScalarDecayScan(c.chunkSize());
    boolean biases = c.addLinearBiases();
    this.inProj = linear("in_proj", Linear.kaiming("in_proj", 2 * inner + 2 * bc + vHeads, hidden, biases));
    this.zBias = biases ? null : Parameters.register(this, "z_bias", ParameterInit.zeros(inner));
    this.conv = register_module("conv1d", CausalConv.uniform(inner + 2 * bc, c.convKernelSize(), true));
    this.skip = Parameters.register(this, "D", ParameterInit.ones(vHeads));
    this.outProj = linear("out_proj", Linear.kaiming("out_proj", hidden, inner, biases));
  }

  public static DiscreteMamba2Mixer of(SsmBlockConfig resolved) {
    return new DiscreteMamba2Mixer(resolved);
  }

  @Override
  CausalConv conv() {
    return conv;
  }

  @Override
  ScalarDecayScan scan() {
    return scan;
  }

  @Override
  Tensor mix(Tensor input, Adapters adapters, UnaryOperator<Tensor> convolution, DecayScan scalarDecay) {
    long batch = input.size(0);
    long time = input.size(1);
    Tensor[] projected = Split.parts(inProj.forward(input, adapters), 2, inner + 2 * bc, inner, vHeads);
    Tensor[] xbc = Split.parts(torch.silu(convolution.apply(projected[0])), 2, inner, bc, bc);
    Tensor z = projected[1];
    Tensor a = projected[2];
    Tensor x = xbc[0].reshape(batch, time, vHeads, inner / vHeads);
    Tensor b = xbc[1].reshape(batch, time, qkHeads, state);    // read per group by the scan, never repeated
    Tensor c = xbc[2].reshape(batch, time, qkHeads, state);
    Tensor y = scalarDecay.scan(x, torch.softplus(a).neg(), b, c).add(x.mul(skip.view(1, 1, vHeads, 1)));
    Tensor gate = zBias == null ? z : z.add(zBias);
    return outProj.forward(y.reshape(batch, time, inner).mul(torch.silu(gate)), adapters);
  }
}
