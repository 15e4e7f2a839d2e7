package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Masks over pairs of steps (or of chunks).
 *
 * <pre>{@code
 * // given Tensor x
 * CausalPairs.future(4, x)  // [4, 4] booleans, true where s > t
 * }</pre>
 */
final class CausalPairs {
  private CausalPairs() {}

  /**
   * {@code [l, l]} booleans, true at {@code (t, s)} when step {@code s} comes after step {@code t}, on the device of
   * {@code like}.
   */
  static Tensor future(long length, Tensor like) {
    return ones(length, like).triu(1);
  }

  /** {@code [l, l]} booleans, true at {@code (t, s)} when {@code s >= t}: {@link #future} and the diagonal. */
  static Tensor notBefore(long length, Tensor like) {
    return ones(length, like).triu(0);
  }

  private static Tensor ones(long length, Tensor like) {
    TensorOptions options = new TensorOptions(torch.ScalarType.Bool).device(new DeviceOptional(like.device()));
    return torch.ones(new long[] {length, length}, options);
  }
}
