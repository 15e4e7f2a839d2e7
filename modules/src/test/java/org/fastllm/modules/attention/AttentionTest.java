package org.fastllm.modules.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.RotaryConfig;
import org.fastllm.dsl.config.RotaryType;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Causality;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowReference;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class AttentionTest {

  /** One random attention shape; printed when a property fails. */
  record Case(int batch, int time, int heads, int groups, int headSize, int window, boolean rotary, boolean biases,
      boolean fused, boolean causal) {

    TransformerBlockConfig config() {
      int hidden = 8;
      return new TransformerBlockConfig(new CommonBlockKeys(null, hidden, null, 0, null, null, null, null, null,
          biases), null, heads, groups, headSize, window > 0, window > 0 ? window : null, fused,
          new RotaryConfig(rotary ? RotaryType.DEFAULT : RotaryType.NONE, 100.0), causal, null)
          .withDefaults(new ModelDefaults(hidden, NormalizationConfig.DEFAULT));
    }
  }

  static final Gen<Case> CASES = in -> {
    int heads = (int) in.next(Constraint.between(1, 4));
    int[] divisors = java.util.stream.IntStream.rangeClosed(1, heads).filter(g -> heads % g == 0).toArray();
    int groups = divisors[(int) in.next(Constraint.between(0, divisors.length - 1))];
    return new Case((int) in.next(Constraint.between(1, 2)), (int) in.next(Constraint.between(1, 9)), heads, groups,
        2 * (int) in.next(Constraint.between(1, 3)), (int) in.next(Constraint.between(0, 5)),
        in.next(Constraint.between(0, 1)) == 1, in.next(Constraint.between(0, 1)) == 1,
        in.next(Constraint.between(0, 1)) == 1, in.next(Constraint.between(0, 3)) > 0);
  };

  @Test
  void forward_randomShapesInFloat64_matchesSlowReference() {
    qt().withExamples(30).withShrinkCycles(0).forAll(CASES).checkAssert(c -> {
      Attention attention = Attention.of(c.config(), LayerContext.defaults());
      LayerCheck.against(attention, (x, p) -> SlowReference.attention(x, p, c.config()))
          .run(torch.ScalarType.Double, 1e-6, c.toString(), c.batch(), c.time(), 8);
    });
  }

  @Test
  void forward_randomShapesInFloat32_matchesSlowReference() {
    qt().withExamples(20).withShrinkCycles(0).forAll(CASES).checkAssert(c -> {
      Attention attention = Attention.of(c.config(), LayerContext.defaults());
      LayerCheck.against(attention, (x, p) -> SlowReference.attention(x, p, c.config()))
          .run(torch.ScalarType.Float, 1e-4, c.toString(), c.batch(), c.time(), 8);
    });
  }

  @Test
  void forward_futureTokensChanged_earlierOutputsUnchanged() {
    Case c = new Case(1, 12, 4, 2, 2, 0, true, true, true, true);
    Causality.assertPrefixUnaffected(Attention.of(c.config(), LayerContext.defaults()), 7, 12);
  }

  @Test
  void forward_tokensOutsideWindowChanged_outputUnchanged() {
    int window = 3;
    Case c = new Case(1, 10, 2, 1, 4, window, true, false, true, true);
    Attention attention = Attention.of(c.config(), LayerContext.defaults());
    try (NoGradGuard guard = new NoGradGuard()) {
      Tensor x = Torch.randn(torch.ScalarType.Float, 1, 10, 8);
      Tensor changed = x.clone();
      changed.narrow(1, 0, 5).copy_(Torch.randn(torch.ScalarType.Float, 1, 5, 8));
      // Position 9 sees 7, 8, 9 only; positions 0..4 are more than window-1 back.
      Tensor before = attention.forward(x).select(1, 9);
      Tensor after = attention.forward(changed).select(1, 9);
      assertThat(Torch.relativeError(after, before)).isCloseTo(0.0, within(0.0));
      Tensor early = attention.forward(changed).select(1, 6);
      assertThat(Torch.relativeError(early, attention.forward(x).select(1, 6)) > 1e-6)
          .as("position 6 sees 4, which changed")
          .isTrue();
    }
  }
}
