package org.fastllm.modules.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Asserts that a sequence layer never looks ahead. */
public final class Causality {
  private Causality() {}

  /** Changing tokens from {@code from} on leaves outputs before {@code from} bit-identical. */
  public static void assertPrefixUnaffected(org.fastllm.modules.layer.SequenceLayer layer, int from, int time) {
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor x = Torch.randn(torch.ScalarType.Float, 2, time, 8);
      Tensor changed = x.clone();
      changed.narrow(1, from, time - from).copy_(Torch.randn(torch.ScalarType.Float, 2, time - from, 8));
      Tensor before = layer.forward(x);
      Tensor after = layer.forward(changed);
      assertThat(Torch.relativeError(after.narrow(1, 0, from), before.narrow(1, 0, from))).isCloseTo(0.0, within(1e-7));
      assertThat(Torch.relativeError(after.narrow(1, from, time - from), before.narrow(1, from, time - from)) > 1e-6)
          .isTrue();
    }
  }
}
