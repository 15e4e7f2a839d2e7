package org.fastllm.modules.ssm;

import org.fastllm.modules.layer.Parameters;
import org.bytedeco.pytorch.LongOptional;
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
 * Fast-LLM's Mamba 2 mixer (after M1's hybrid layer): {@code [z, x, B, C] = in_proj(h)} with x and B
 * {@code d_xb} wide, repeated from {@code d_xb / state} groups to {@code d_inner / state} heads (before or after the
 * causal conv, per {@code repeat_kv_before_conv}); {@code delta = softplus(dt_proj(dt_in_proj(h)))} with dt_proj's
 * bias; then the selective scan, the {@code D} skip and the {@code silu(z)} gate, as in Mamba 1.
 *
 * <pre>{@code
 * // given SsmBlockConfig resolvedSsmBlock, LayerContext context
 * Mamba2Mixer mixer = Mamba2Mixer.of(resolvedSsmBlock, context);  // variant: mamba2
 * }</pre>
 *
 * <p>Channel {@code d} belongs to head {@code d / state}; every channel of a head shares that head's B and C.
 * Fast-LLM's source at this revision adds dt_proj's bias twice (once to dt, once as the scan's delta bias); this
 * adds it once, which is what its parameter layout and the Mamba papers describe.
 */
public final class Mamba2Mixer extends SelectiveScanMixer {
  private final Linear inProj;
  private final Linear dtInProj;
  private final Linear dtProj;
  private final CausalConv conv;
  private final Tensor aLog;
  private final Tensor skip;
  private final Linear outProj;
  private final long inner;
  private final long xb;
  private final long state;
  private final long groups;
  private final long heads;
  private final boolean repeatBeforeConv;
  private final SelectiveScan scan;

  private Mamba2Mixer(SsmBlockConfig c, SelectiveScan scan) {
    long hidden = c.hiddenSize();
    this.inner = c.dInner();
    this.xb = c.dXb();
    this.state = c.stateSize();
    this.scan = scan;
    this.repeatBeforeConv = c.repeatKvBeforeConv();
    if (inner % state != 0 || xb % state != 0 || (inner / state) % (xb / state) != 0) {
      throw new IllegalArgumentException("mamba2 needs d_inner (" + inner + ") and d_xb (" + xb
          + ") to be multiples of state_size (" + state + ") and d_inner/state a multiple of d_xb/state");
    }
    this.heads = inner / state;
    this.groups = xb / state;
    long rank = c.dtRank().value();
    boolean biases = c.addLinearBiases();
    this.inProj = linear("in_proj", Linear.kaiming("in_proj", 2 * inner + 2 * xb, hidden, biases));
    this.dtInProj = linear("dt_in_proj", Linear.kaiming("dt_in_proj", rank, hidden, biases));
    // Fast-LLM's "random" dt init: uniform in +-rank^-1/2.
    this.dtProj = linear("dt_proj",
        new Linear("dt_proj", ParameterInit.uniform(1.0 / Math.sqrt(rank), inner, rank), SsmInit.dtBias(inner)));
    this.conv = register_module("conv1d", CausalConv.uniform(repeatBeforeConv ? inner : xb, c.convKernelSize(), true));
    this.aLog = Parameters.register(this, "A_log", SsmInit.aLog(inner, state));
    this.skip = Parameters.register(this, "D", ParameterInit.ones(inner));
    this.outProj = linear("out_proj", Linear.kaiming("out_proj", hidden, inner, biases));
  }

  /** The mixer of a resolved block in a model built with {@code context}. */
  public static Mamba2Mixer of(SsmBlockConfig resolved, LayerContext context) {
    return new Mamba2Mixer(resolved, SelectiveScan.of(SelectiveScan.DEFAULT_CHUNK, context));
  }

  /**
   * With a chosen scan: its chunk (tests cross chunk borders) and whether CUDA inputs may take the hand-written
   * kernels ({@link SelectiveScan#tensorOperations}: benchmarks compare both).
   */
  public static Mamba2Mixer of(SsmBlockConfig resolved, SelectiveScan scan) {
    return new Mamba2Mixer(resolved, scan);
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
    Tensor[] projected = Split.parts(inProj.forward(input, adapters), 2, inner, xb, xb, inner);
    Tensor z = projected[0];
    Tensor x = projected[1];
    Tensor b = projected[2];
    Tensor c = projected[3];
    Tensor delta = torch.softplus(dtProj.forward(dtInProj.forward(input, adapters), adapters));
    Tensor u = repeatBeforeConv
        ? torch.silu(convolution.apply(toHeads(x)))
        : toHeads(torch.silu(convolution.apply(x)));
    long batch = input.size(0);
    long time = input.size(1);
    Tensor bHeads = repeat(b.reshape(batch, time, groups, state), heads / groups);   // [b, t, heads, N]
    Tensor cHeads = c.reshape(batch, time, heads, state);
    return outProj.forward(scan().gate(selective.scan(u, delta, a, bHeads, cHeads), u, skip, z), adapters);
  }

  /** {@code [b, t, d_xb] -> [b, t, d_inner]}: each group of {@code state} channels repeated for its heads. */
  private Tensor toHeads(Tensor x) {
    long batch = x.size(0);
    long time = x.size(1);
    return repeat(x.reshape(batch, time, groups, state), heads / groups).reshape(batch, time, inner);
  }

  private static Tensor repeat(Tensor t, long times) {
    return times == 1 ? t : t.repeat_interleave(times, new LongOptional(2), new LongOptional());
  }
}
