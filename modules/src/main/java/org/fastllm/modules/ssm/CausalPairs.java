package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Masks over pairs of steps inside a chunk.
 *
 * <pre>{@code CausalPairs.future(4)  // [4, 4] booleans, true where s > t}</pre>
 */
final class CausalPairs {
  private CausalPairs() {}

  /** {@code [l, l]} booleans, true at {@code (t, s)} when step {@code s} comes after step {@code t}. */
  static Tensor future(long length) {
    return torch.ones(length, length).to(torch.ScalarType.Bool).triu(1);
  }
}
