package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * A fixed decoding (what a CUDA graph records) decodes each position from the device's position tensor, with
 * caches allocated once and states written in place, and gives the logits of the full forward.
 */
class FixedDecodingTest {
  /** Every built-in state: rotary attention shared by two uses, a window of 3 (its ring wraps), each SSM variant. */
  private static LanguageModel everyKind(boolean learnedPositions) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("shared", StackBuilderTest.attention("GQA", 4, 2, true, null, true, 24, null));
    blocks.put("local", StackBuilderTest.attention("MQA", 4, null, false, 3, false, 24, null));
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    blocks.put("m2", StackBuilderTest.ssm(SsmVariant.MAMBA2, false, true, 0));
    blocks.put("d2", StackBuilderTest.ssm(SsmVariant.DISCRETE_MAMBA2, false, false, 24));
    blocks.put("s2", StackBuilderTest.ssm(SsmVariant.MAMBA2_STANDARD, false, false, 0));
    LanguageModel model = StackBuilder.installed().build(StackBuilderTest.model(blocks,
        List.of("shared", "local", "m1", "shared", "m2", "d2", "s2"), 7, false, learnedPositions,
        NormType.RMS_NORM));
    model.eval();
    return model;
  }

  @ParameterizedTest(name = "learned positions: {0}")
  @ValueSource(booleans = {false, true})
  void fix_everyBuiltInStateKind_stepsAtTheDevicePositionEqualTheFullForwardAtEveryPosition(boolean positions) {
    Torch.seed(11);
    LanguageModel model = everyKind(positions);
    Tensor tokens = torch.randint(32, new long[] {2, 11}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      Tensor full = model.logits(tokens);
      model.decodeLogits(tokens.narrow(1, 0, 5), decoding);
      assertThat(decoding.fix(12, tokens)).as("why not fixed").isNull();
      for (long t = 5; t < 11; t++) {
        decoding.fixedPosition().fill_(new Scalar(t));
        Tensor step = model.decodeLogits(tokens.narrow(1, t, 1), decoding);
        assertThat(maxDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-5);
      }
      assertThat(decoding.position()).isEqualTo(11);
    }
  }

  @Test
  void fix_aKeyValueCache_holdsTheWholeCapacityFromThenOn() {
    Torch.seed(12);
    LanguageModel model = everyKind(false);
    Tensor tokens = torch.randint(32, new long[] {1, 4}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(1)) {
      model.decodeLogits(tokens, decoding);
      long ssmBefore = decoding.bytes(2);
      decoding.fix(1000, tokens);
      long floatsPerPosition = 2L * 2 * StackBuilderTest.HIDDEN / 4;   // keys and values of 2 groups of head size
      assertThat(decoding.bytes(0)).isEqualTo(1000 * floatsPerPosition * Float.BYTES);
      assertThat(decoding.bytes(2)).as("an SSM state keeps its size").isEqualTo(ssmBefore);
    }
  }

  @Test
  void nextLogits_onTheCpu_runEagerlySayingWhyWithTheLogitsOfTheFullForward() {
    Torch.seed(13);
    LanguageModel model = everyKind(false);
    Tensor tokens = torch.randint(32, new long[] {2, 8}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2);
        DecodeGraph steps = new DecodeGraph(model, decoding, 8)) {
      Tensor full = model.logits(tokens);
      model.decodeNextLogits(tokens.narrow(1, 0, 5), decoding);
      for (long t = 5; t < 8; t++) {
        Tensor next = steps.nextLogits(tokens.narrow(1, t, 1));
        assertThat(maxDifference(next, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-5);
      }
      assertThat(steps.replays()).isFalse();
      assertThat(steps.eagerReason()).contains("GPU").contains("cpu");
      assertThatThrownBy(() -> steps.nextLogits(tokens.narrow(1, 0, 1)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("8 positions");
    }
  }

  private static double maxDifference(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }
}
