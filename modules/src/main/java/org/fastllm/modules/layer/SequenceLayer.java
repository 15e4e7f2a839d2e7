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

  /** Applies the layer without adapters. */
  public final Tensor forward(Tensor input) {
    return forward(input, Adapters.NONE);
  }
}
