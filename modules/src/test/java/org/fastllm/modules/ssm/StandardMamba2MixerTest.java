package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.layout.SsmLayout;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.testing.Causality;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowStandardMamba2;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class StandardMamba2MixerTest {
  static final int HIDDEN = 8;

  /** One standard Mamba 2 shape; printed when a check fails. */
  record Case(int batch, int time, int state, int headSize, int groups, int headsPerGroup, int chunk, int kernel,
      boolean biases, boolean convBias, boolean single) {

    SsmBlockConfig config() {
      int inner = groups * headsPerGroup * headSize;
      return new SsmBlockConfig(new CommonBlockKeys(null, HIDDEN, null, 0, null, null, null, null, null, biases),
          SsmVariant.MAMBA2_STANDARD, state, null, inner, null, kernel, null, null, null, null, chunk, headSize,
          groups, convBias).withDefaults(new ModelDefaults(HIDDEN, NormalizationConfig.DEFAULT));
    }
  }

  /** Up to 11 steps in chunks of 1 to 5: most cases cross one chunk border or more. */
  static final Gen<Case> CASES = in -> new Case((int) in.next(Constraint.between(1, 2)),
      (int) in.next(Constraint.between(1, 11)), (int) in.next(Constraint.between(1, 4)),
      (int) in.next(Constraint.between(1, 3)), (int) in.next(Constraint.between(1, 2)),
      (int) in.next(Constraint.between(1, 2)), (int) in.next(Constraint.between(1, 5)),
      (int) in.next(Constraint.between(1, 4)), in.next(Constraint.between(0, 1)) == 1,
      in.next(Constraint.between(0, 1)) == 1, in.next(Constraint.between(0, 1)) == 1);

  static void check(Case c) {
    LayerCheck.against(StandardMamba2Mixer.of(c.config()), (x, p) -> SlowStandardMamba2.forward(x, p, c.config()))
        .run(c.single() ? torch.ScalarType.Float : torch.ScalarType.Double, c.single() ? 1e-4 : 1e-6, c.toString(),
            c.batch(), c.time(), HIDDEN);
  }

  @Nested
  class Forward {
    @Test
    void forward_randomShapes_valuesAndGradientsMatchStepByStepRecurrence() {
      qt().withExamples(40).withShrinkCycles(0).forAll(CASES).checkAssert(StandardMamba2MixerTest::check);
    }

    @Test
    void forward_thirteenStepsInChunksOfFour_valuesAndGradientsMatchStepByStepRecurrence() {
      check(new Case(2, 13, 3, 2, 2, 2, 4, 4, true, true, false));
      check(new Case(1, 13, 5, 4, 1, 3, 4, 3, false, false, true));
    }

    @Test
    void forward_futureTokensChanged_earlierOutputsUnchanged() {
      Causality.assertPrefixUnaffected(StandardMamba2Mixer.of(new Case(2, 13, 2, 3, 2, 1, 4, 4, false, true, true)
          .config()), 6, 13);
    }
  }

  @Test
  void parameters_namesAndShapes_equalTheLayoutTransformersNames() {
    SsmBlockConfig c = new Case(1, 1, 3, 4, 2, 3, 4, 4, true, true, true).config();
    Map<String, List<Long>> built = new TreeMap<>();
    Torch.parameters(StandardMamba2Mixer.of(c)).forEach((name, p) ->
        built.put("mixer." + name, java.util.Arrays.stream(Torch.shape(p)).boxed().toList()));
    Map<String, List<Long>> layout = new TreeMap<>();
    new SsmLayout().tensors(c).stream().filter(t -> t.name().startsWith("mixer."))
        .forEach((TensorSpec t) -> layout.put(t.name(), t.shape()));
    assertThat(built).isEqualTo(layout).containsOnlyKeys("mixer.in_proj.weight", "mixer.in_proj.bias",
        "mixer.conv1d.weight", "mixer.conv1d.bias", "mixer.dt_bias", "mixer.A_log", "mixer.D", "mixer.norm.weight",
        "mixer.out_proj.weight", "mixer.out_proj.bias");
    // 6 heads of 4 channels, 2 groups of state 3: z 24 + xBC (24 + 12) + dt 6
    assertThat(built.get("mixer.in_proj.weight")).containsExactly(66L, (long) HIDDEN);
  }

  /** Decoding in pieces with scan chunks of 4 over 13 steps: the borders at 4, 8 and 12 are crossed. */
  static List<Case> decodeCases() {
    return List.of(new Case(2, 13, 3, 2, 2, 2, 4, 4, true, true, true),
        new Case(1, 13, 2, 3, 1, 1, 4, 1, false, false, true),
        new Case(2, 13, 4, 1, 2, 3, 4, 2, false, true, true));
  }

  @ParameterizedTest
  @MethodSource("decodeCases")
  void decode_promptThenSingleTokens_equalsForwardWithAFixedSizeState(Case c) {
    checkPieces(c, 1);
  }

  @ParameterizedTest
  @MethodSource("decodeCases")
  void decode_promptThenPiecesOfThree_equalsForwardWithAFixedSizeState(Case c) {
    checkPieces(c, 3);
  }

  private static void checkPieces(Case c, int piece) {
    int prompt = 6;
    Torch.seed(11);
    StandardMamba2Mixer mixer = StandardMamba2Mixer.of(c.config());
    assertThat(mixer.decodesIncrementally()).isTrue();
    Tensor input = torch.randn(c.batch(), c.time(), HIDDEN);
    try (NoGradGuard noGrad = new NoGradGuard();
        SsmDecodeState state = (SsmDecodeState) mixer.startDecoding(c.batch())) {
      Tensor full = mixer.forward(input);
      assertClose(mixer.decode(input.narrow(1, 0, prompt), Adapters.NONE, state), full.narrow(1, 0, prompt), c);
      long size = state.elements();
      for (long start = prompt; start < c.time(); start += piece) {
        long length = Math.min(piece, c.time() - start);
        try (PointerScope step = new PointerScope()) {
          assertClose(mixer.decode(input.narrow(1, start, length), Adapters.NONE, state),
              full.narrow(1, start, length), c);
        }
        assertThat(state.elements()).as("state size after position %d", start + length).isEqualTo(size);
      }
    }
  }

  private static void assertClose(Tensor actual, Tensor expected, Case c) {
    double scale = Math.max(expected.abs().max().item_double(), 1e-3);
    assertThat(actual.sizes().vec().get()).isEqualTo(expected.sizes().vec().get());
    assertThat(actual.sub(expected).abs().max().item_double() / scale).as(c.toString()).isLessThan(1e-5);
  }
}
