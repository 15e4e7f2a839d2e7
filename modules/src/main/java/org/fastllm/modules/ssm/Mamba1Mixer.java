package org.fastllm.modules.ssm;

import org.fastllm.modules.layer.Parameters;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Split;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.CausalConv;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.ParameterInit;
import java.util.function.UnaryOperator;

/**
 * Fast-LLM's Mamba 1 mixer: {@code [x, z] = in_proj(h)}, {@code u = silu(causal_conv(x))},
 * {@code [dt, B, C] = x_proj(u)}, {@code delta = softplus(dt_proj(dt))}, {@code A = -exp(A_log)},
 * {@code y = (scan(u, delta, A, B, C) + D u) * silu(z)}, output {@code out_proj(y)}.
 *
 * <pre>{@code
 * // given SsmBlockConfig resolvedSsmBlock, LayerContext context
 * Mamba1Mixer mixer = Mamba1Mixer.of(resolvedSsmBlock, context);  // variant: mamba1
 * }</pre>
 *
 * <p>No linear biases but dt_proj's, no conv bias unless {@code conv_bias: true} (transformers' Mamba has one), as in
 * Fast-LLM.
 */
public final class Mamba1Mixer extends SelectiveScanMixer {
  private final Linear inProj;
  private final CausalConv conv;
  private final Linear xProj;
  private final Linear dtProj;
  private final Tensor aLog;
  private final Tensor skip;
  private final Linear outProj;
  private final long inner;
  private final long state;
  private final long rank;
  private final SelectiveScan scan;

  private Mamba1Mixer(SsmBlockConfig c, SelectiveScan scan) {
    long hidden = c.hiddenSize();
    this.inner = c.dInner();
    this.state = c.stateSize();
    this.rank = c.dtRank().value();
    this.scan = scan;
    this.inProj = linear("in_proj", Linear.kaiming("in_proj", 2 * inner, hidden, false));
    this.conv = register_module("conv1d",
        new CausalConv(ParameterInit.kaiming(inner, inner, 1, c.convKernelSize()),
            Boolean.TRUE.equals(c.convBias()) ? ParameterInit.zeros(inner) : null));
    this.xProj = linear("x_proj", Linear.kaiming("x_proj", rank + 2 * state, inner, false));
    this.dtProj = linear("dt_proj",
        new Linear("dt_proj", ParameterInit.kaiming(rank, inner, rank), SsmInit.dtBias(inner)));
    this.aLog = Parameters.register(this, "A_log", SsmInit.aLog(inner, state));
    this.skip = Parameters.register(this, "D", ParameterInit.ones(inner));
    this.outProj = linear("out_proj",
        new Linear("out_proj", ParameterInit.kaiming(hidden, hidden, inner), null));
  }

  /** The mixer of a resolved block in a model built with {@code context}. */
  public static Mamba1Mixer of(SsmBlockConfig resolved, LayerContext context) {
    return new Mamba1Mixer(resolved, SelectiveScan.of(SelectiveScan.DEFAULT_CHUNK, context));
  }

  /**
   * With a chosen scan: its chunk (tests cross chunk borders) and whether CUDA inputs may take the hand-written
   * kernels ({@link SelectiveScan#tensorOperations}: benchmarks compare both).
   */
  public static Mamba1Mixer of(SsmBlockConfig resolved, SelectiveScan scan) {
    return new Mamba1Mixer(resolved, scan);
  }

  @Override
  CausalConv conv() {
    return conv;
  }

  @Override
  SelectiveScan scan() {
    return scan;
  }

  @Override
  Tensor aLog() {
    return aLog;
  }

  @Override
  Tensor mix(Tensor input, Adapters adapters, UnaryOperator<Tensor> convolution, Scan selective, Tensor a) {
    Tensor xz = inProj.forward(input, adapters);
    Tensor[] xAndZ = Split.parts(xz, 2, inner, inner);
    Tensor u = torch.silu(convolution.apply(xAndZ[0]));
    Tensor z = xAndZ[1];
    Tensor[] projected = Split.parts(xProj.forward(u, adapters), 2, rank, state, state);
    Tensor delta = torch.softplus(dtProj.forward(projected[0], adapters));
    Tensor b = projected[1].unsqueeze(2);
    Tensor c = projected[2].unsqueeze(2);
    return outProj.forward(scan().gate(selective.scan(u, delta, a, b, c), u, skip, z), adapters);
  }
}
