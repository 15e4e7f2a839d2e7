package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Tensor;

/**
 * A decoding state whose one-position steps can be recorded once as a CUDA graph and replayed: after {@link #fix},
 * such a step reads the position it decodes from a tensor on the device, not from a count on the host, and writes
 * its state into the same memory every time. A replay runs no Java code, so the host side learns of the positions
 * a replay decoded through {@link #seen}.
 *
 * <pre>{@code
 * // given StaticState state, Tensor position, SequenceLayer mixer, Tensor next
 * state.fix(640, position);   // position: long [1] on the state's device; room for 640 positions, allocated now
 * position.fill_(new org.bytedeco.pytorch.Scalar(512));
 * var out = mixer.decode(next, Adapters.NONE, state);   // next [b, 1, width]: the position 512 of each row
 * }</pre>
 *
 * <p>A plugin's state implements this when its step meets those two rules; any other state keeps its layer's
 * steps eager, and the whole model's with it.
 */
public interface StaticState extends DecodeState {
  /**
   * From now on one-position steps decode the position {@code position} holds ({@code long [1]}, on the device of
   * the state), for sequences of at most {@code capacity} positions, and write the state in place; steps of several
   * positions still work as before.
   *
   * @throws IllegalArgumentException when {@code capacity} is less than the positions seen
   */
  void fix(long capacity, Tensor position);

  /** Sets the number of positions seen (for the host's bookkeeping) after steps that ran as a replay. */
  void seen(long positions);
}
