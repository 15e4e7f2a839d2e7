package org.fastllm.modules.ssm;

import static org.quicktheories.QuickTheory.qt;

import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.dsl.config.DtRank;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowReference;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class SsmMixersTest {
  static final int HIDDEN = 8;

  /** One random SSM shape; printed when a property fails. */
  record Case(SsmVariant variant, int batch, int time, int state, int heads, int groups, int chunk, int kernel,
      boolean biases, boolean repeatBeforeConv, float32Flag precision) {

    SsmBlockConfig config() {
      int inner = heads * state;  // mamba2: heads of `state` channels; discrete: v heads of `state` channels
      if (variant == SsmVariant.MAMBA2_STANDARD) {  // heads of `state` channels in `groups` groups
        return new SsmBlockConfig(new CommonBlockKeys(null, HIDDEN, null, 0, null, null, null, null, null, biases),
            variant, state, null, inner, null, kernel, null, null, null, null, chunk, state, groups, biases)
            .withDefaults(new ModelDefaults(HIDDEN, NormalizationConfig.DEFAULT));
      }
      return new SsmBlockConfig(new CommonBlockKeys(null, HIDDEN, null, 0, null, null, null, null, null, biases),
          variant, state, null, inner, variant == SsmVariant.DISCRETE_MAMBA2 ? null : new DtRank(3), kernel,
          variant == SsmVariant.MAMBA2 ? Integer.valueOf(groups * state) : null,
          variant == SsmVariant.MAMBA2 ? Boolean.valueOf(repeatBeforeConv) : null,
          variant == SsmVariant.DISCRETE_MAMBA2 ? Integer.valueOf(groups) : null,
          variant == SsmVariant.DISCRETE_MAMBA2 ? Integer.valueOf(heads) : null,
          variant == SsmVariant.DISCRETE_MAMBA2 ? Integer.valueOf(chunk) : null)
          .withDefaults(new ModelDefaults(HIDDEN, NormalizationConfig.DEFAULT));
    }
  }

  enum float32Flag { FLOAT64, FLOAT32 }

  static Gen<Case> cases(SsmVariant variant) {
    return in -> {
      int groups = (int) in.next(Constraint.between(1, 2));
      int heads = groups * (int) in.next(Constraint.between(1, 2));
      return new Case(variant, (int) in.next(Constraint.between(1, 2)), (int) in.next(Constraint.between(1, 11)),
          (int) in.next(Constraint.between(1, 4)), heads, groups, (int) in.next(Constraint.between(1, 5)),
          (int) in.next(Constraint.between(1, 4)), in.next(Constraint.between(0, 1)) == 1,
          in.next(Constraint.between(0, 1)) == 1,
          in.next(Constraint.between(0, 1)) == 1 ? float32Flag.FLOAT32 : float32Flag.FLOAT64);
    };
  }

  static void check(Case c, org.fastllm.modules.layer.SequenceLayer layer,
      java.util.function.BiFunction<org.bytedeco.pytorch.Tensor, java.util.Map<String, org.bytedeco.pytorch.Tensor>,
          org.bytedeco.pytorch.Tensor> reference) {
    boolean single = c.precision() == float32Flag.FLOAT32;
    LayerCheck.against(layer, reference).run(single ? torch.ScalarType.Float : torch.ScalarType.Double,
        single ? 1e-4 : 1e-6, c.toString(), c.batch(), c.time(), HIDDEN);
  }

  @Test
  void mamba1_randomShapes_matchesStepByStepRecurrence() {
    qt().withExamples(30).withShrinkCycles(0).forAll(cases(SsmVariant.MAMBA1)).checkAssert(c ->
        check(c, Mamba1Mixer.of(c.config(), SelectiveScan.of(c.chunk(), LayerContext.defaults())), (x, p) -> SlowReference.mamba1(x, p, c.config())));
  }

  @Test
  void mamba2_randomShapes_matchesStepByStepRecurrence() {
    qt().withExamples(30).withShrinkCycles(0).forAll(cases(SsmVariant.MAMBA2)).checkAssert(c ->
        check(c, Mamba2Mixer.of(c.config(), SelectiveScan.of(c.chunk(), LayerContext.defaults())), (x, p) -> SlowReference.mamba2(x, p, c.config())));
  }

  @Test
  void discreteMamba2_randomShapes_matchesStepByStepRecurrence() {
    qt().withExamples(30).withShrinkCycles(0).forAll(cases(SsmVariant.DISCRETE_MAMBA2)).checkAssert(c ->
        check(c, DiscreteMamba2Mixer.of(c.config()), (x, p) -> SlowReference.discreteMamba2(x, p, c.config())));
  }

  @Test
  void forward_futureTokensChanged_earlierOutputsUnchanged() {
    for (SsmVariant variant : SsmVariant.values()) {
      Case c = new Case(variant, 2, 13, 2, 2, 1, 4, 4, false, true, float32Flag.FLOAT32);
      org.fastllm.modules.layer.SequenceLayer layer = switch (variant) {
        case MAMBA1 -> Mamba1Mixer.of(c.config(), SelectiveScan.of(4, LayerContext.defaults()));
        case MAMBA2 -> Mamba2Mixer.of(c.config(), SelectiveScan.of(4, LayerContext.defaults()));
        case DISCRETE_MAMBA2 -> DiscreteMamba2Mixer.of(c.config());
        case MAMBA2_STANDARD -> StandardMamba2Mixer.of(c.config());
      };
      org.fastllm.modules.testing.Causality.assertPrefixUnaffected(layer, 6, 13);
    }
  }
}
