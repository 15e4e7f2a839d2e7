package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Tensor;

/**
 * What a block's linear layers add to their output: nothing, or low-rank adapters chosen by the caller.
 *
 * <pre>{@code
 * // given Adapters adapters, Tensor x, Tensor linearOutput
 * Tensor y = adapters.adapt("query", x, linearOutput);
 * }</pre>
 *
 * <p><b>Returns {@code base} itself when no adapter targets the named linear layer.</b> The adapters are passed at
 * call time, not stored in the block, so that one shared block can run under a different adapter at each use.
 */
@FunctionalInterface
public interface Adapters {

  /** No adapters: every linear layer returns its own output. */
  Adapters NONE = (target, input, base) -> base;

  /**
   * The output of linear layer {@code target} once adapted.
   *
   * @param target the linear layer's name, as {@code TensorSpec.linear()} names it ({@code query}, {@code in_proj})
   * @param input what the linear layer was applied to
   * @param base the linear layer's own output
   */
  Tensor adapt(String target, Tensor input, Tensor base);
}
