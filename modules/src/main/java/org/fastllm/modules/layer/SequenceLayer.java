package org.fastllm.modules.layer;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A torch module that maps a batch of sequences {@code [batch, time, width]} to {@code [batch, time, width']}.
 *
 * <pre>{@code
 * // given SequenceLayer attention, Tensor x
 * Tensor y = attention.forward(x, Adapters.NONE);  // x, y: [b, t, H]
 * }</pre>
 *
 * <p><b>Position {@code t} of the output depends on positions {@code <= t} of the input only</b> for every causal
 * mixer; the whole sequence is processed with tensor operations (no loop over single time steps).
 *
 * <p>For generation a layer continues a sequence with {@link #decode}: a layer with a step function of its own
 * keeps a cache in its {@link DecodeState} and says so with {@link #decodesIncrementally()}; any other layer
 * recomputes the whole sequence at each call, which gives the same values at a cost that grows with the context.
 */
public abstract class SequenceLayer extends Module {
  private final List<Linear> linears = new ArrayList<>();

  /** Applies the layer; {@code adapters} adds LoRA updates to the layer's linear layers. */
  public abstract Tensor forward(Tensor input, Adapters adapters);

  /** Registers {@code linear} as the submodule {@code name} and lists it in {@link #linears()}; returns it. */
  protected final Linear linear(String name, Linear linear) {
    linears.add(linear);
    return register_module(name, linear);
  }

  /**
   * The layer's linear layers registered through {@link #linear}, in order: the training loop may give their
   * weights bfloat16 copies ({@link Linear#useCopy}). A layer that registers its linears otherwise lists none.
   */
  public List<Linear> linears() {
    return List.copyOf(linears);
  }

  /**
   * A fresh decoding state for a batch of {@code batch} sequences, before their first position. The default keeps
   * the input and recomputes; a layer that overrides {@link #decode} overrides this too.
   */
  public DecodeState startDecoding(long batch) {
    return new RecomputeState();
  }

  /**
   * The output for {@code input} {@code [b, t, H]}: the {@code t} positions that follow those {@code state} has
   * seen, equal to the last {@code t} positions of {@link #forward} over the whole sequence. The state then
   * includes them. Called without gradients.
   */
  public Tensor decode(Tensor input, Adapters adapters, DecodeState state) {
    Tensor all = ((RecomputeState) state).append(input);
    long time = input.size(1);
    return forward(all, adapters).narrow(1, all.size(1) - time, time);
  }

  /** True when {@link #decode} keeps a state of its own; false when it recomputes the whole sequence. */
  public boolean decodesIncrementally() {
    return false;
  }

  /** Applies the layer without adapters. */
  public final Tensor forward(Tensor input) {
    return forward(input, Adapters.NONE);
  }
}
