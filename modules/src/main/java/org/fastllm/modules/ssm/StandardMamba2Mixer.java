package org.fastllm.modules.ssm;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.CausalConv;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.ParameterInit;
import org.fastllm.modules.layer.Parameters;
import org.fastllm.modules.layer.Split;

/**
 * The Mamba 2 mixer of the Mamba-2 paper, as transformers' {@code Mamba2Mixer} (Nemotron-H, Granite 4, Zamba2)
 * computes it: {@code [z, x, B, C, dt] = in_proj(h)}; {@code [x, B, C] = silu(causal_conv([x, B, C]))};
 * {@code dt = softplus(dt + dt_bias)} per head; per head the scan {@code h_t = exp(dt_t A) h_(t-1) + dt_t x_t B_t^T},
 * {@code y_t = h_t C_t} with {@code A = -exp(A_log)}, in chunks of {@code chunk_size}; then {@code y + D x}, the
 * gated RMS norm {@code rmsnorm(y * silu(z)) * norm.weight} and {@code out_proj}.
 *
 * <pre>{@code
 * // given SsmBlockConfig resolvedSsmBlock
 * StandardMamba2Mixer mixer = StandardMamba2Mixer.of(resolvedSsmBlock);  // variant: mamba2_standard
 * }</pre>
 *
 * <p>{@code d_inner / head_size} heads of {@code head_size} channels; head {@code h} reads the B and C of group
 * {@code h / (heads / n_groups)}. The gated norm's epsilon is the block's normalization epsilon, as transformers
 * uses its one {@code layer_norm_epsilon} for both.
 */
public final class StandardMamba2Mixer extends ScalarDecayMixer {
  private final Linear inProj;
  private final CausalConv conv;
  private final Tensor dtBias;
  private final Tensor aLog;
  private final Tensor skip;
  private final GatedRmsNorm norm;
  private final Linear outProj;
  private final long inner;
  private final long heads;
  private final long headSize;
  private final long groups;
  private final long bc;
  private final long state;
  private final ScalarDecayScan scan;

  private StandardMamba2Mixer(SsmBlockConfig c) {
    long hidden = c.hiddenSize();
    this.inner = c.dInner();
    this.headSize = c.headSize();
    this.groups = c.nGroups();
    this.state = c.stateSize();
    if (inner % headSize != 0 || (inner / headSize) % groups != 0) {
      throw new IllegalArgumentException("mamba2_standard needs d_inner (" + inner + ") to be a multiple of"
          + " head_size (" + headSize + ") and n_groups (" + groups + ") to divide d_inner / head_size");
    }
    this.heads = inner / headSize;
    this.bc = groups * state;
    this.scan = new ScalarDecayScan(c.chunkSize());
    boolean biases = c.addLinearBiases();
    this.inProj = linear("in_proj", Linear.kaiming("in_proj", 2 * inner + 2 * bc + heads, hidden, biases));
    this.conv = register_module("conv1d", CausalConv.uniform(inner + 2 * bc, c.convKernelSize(), c.convBias()));
    this.dtBias = Parameters.register(this, "dt_bias", SsmInit.dtBias(heads));
    // A = -(1 .. heads), one decay rate per head.
    this.aLog = Parameters.register(this, "A_log",
        torch.arange(new Scalar(1), new Scalar(heads + 1), new TensorOptions(torch.ScalarType.Float)).log());
    this.skip = Parameters.register(this, "D", ParameterInit.ones(heads));
    this.norm = register_module("norm", new GatedRmsNorm(inner, c.normalization().epsilon()));
    this.outProj = linear("out_proj", Linear.kaiming("out_proj", hidden, inner, biases));
  }

  /** The mixer of a resolved mamba2_standard block. */
  public static StandardMamba2Mixer of(SsmBlockConfig resolved) {
    return new StandardMamba2Mixer(resolved);
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
    Tensor[] projected = Split.parts(inProj.forward(input, adapters), 2, inner,
        inner + 2 * bc, heads);
    Tensor z = projected[0];
    Tensor[] xbc = Split.parts(torch.silu(convolution.apply(projected[1])), 2, inner, bc, bc);
    Tensor dt = torch.softplus(projected[2].add(dtBias));                               // [b, t, H]
    Tensor x = xbc[0].reshape(batch, time, heads, headSize);
    Tensor b = xbc[1].reshape(batch, time, groups, state);      // read per group by the scan, never repeated
    Tensor c = xbc[2].reshape(batch, time, groups, state);
    Tensor logDecay = dt.mul(aLog.exp().neg());
    Tensor y = scalarDecay.scan(x.mul(dt.unsqueeze(-1)), logDecay, b, c).add(x.mul(skip.view(1, 1, heads, 1)));
    return outProj.forward(norm.forward(y.reshape(batch, time, inner), z), adapters);
  }
}
