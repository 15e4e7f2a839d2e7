package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.plugin.LayerFactories;
import org.fastllm.modules.plugin.LayerFactory;
import org.fastllm.modules.plugin.LayerPlugin;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/** Decoding a sequence in pieces gives the logits of the full forward at every position. */
class DecodingTest {
  private static ResolvedModel hybrid() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("a", StackBuilderTest.attention("GQA", 4, 2, false, null, true, 24, null));
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    return StackBuilderTest.model(blocks, List.of("a", "m1"), 3, false, false, NormType.RMS_NORM);
  }

  @Test
  void decodeLogits_promptThenOneTokenAtATime_equalsTheFullForwardAtEveryPosition() {
    Torch.seed(5);
    LanguageModel model = StackBuilder.installed().build(hybrid());
    model.eval();
    Tensor tokens = torch.randint(32, new long[] {2, 9}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      Tensor full = model.logits(tokens);
      Tensor prompt = model.decodeLogits(tokens.narrow(1, 0, 5), decoding);
      assertThat(maxDifference(prompt, full.narrow(1, 0, 5))).as("prompt positions").isLessThan(1e-5);
      for (long t = 5; t < 9; t++) {
        Tensor step = model.decodeLogits(tokens.narrow(1, t, 1), decoding);
        assertThat(maxDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-5);
      }
      assertThat(decoding.position()).isEqualTo(9);
    }
  }

  @Test
  void decodeLogits_windowedAttentionInChunksOfThree_equalsTheFullForwardFromItsCache() {
    Torch.seed(6);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("mqa", StackBuilderTest.attention("MQA", 4, null, false, 3, true, 24, null));
    blocks.put("mha", StackBuilderTest.attention("MHA", 2, null, false, null, false, 0, null));
    LanguageModel model = StackBuilder.installed()
        .build(StackBuilderTest.model(blocks, List.of("mqa", "mha"), 2, true, false, NormType.LAYER_NORM));
    model.eval();
    assertThat(model.decodesIncrementally()).isTrue();
    Tensor tokens = torch.randint(32, new long[] {2, 10}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      Tensor full = model.logits(tokens);
      for (long t = 0; t < 10; t += 3) {
        long length = Math.min(3, 10 - t);
        Tensor chunk = model.decodeLogits(tokens.narrow(1, t, length), decoding);
        assertThat(maxDifference(chunk, full.narrow(1, t, length))).as("positions from %d", t).isLessThan(1e-5);
      }
    }
  }

  @Test
  void recomputingBlocks_everyBuiltInMixer_isEmpty() {
    LanguageModel model = StackBuilder.installed().build(hybrid());

    assertThat(model.recomputingBlocks()).isEmpty();
    assertThat(model.decodesIncrementally()).isTrue();
  }

  @Test
  void recomputingBlocks_attentionWithoutAStepFunction_namesItsBlocksOnceInLayerOrderAndDecodingStillAgrees() {
    Torch.seed(7);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    blocks.put("shared", StackBuilderTest.attention("GQA", 4, 2, true, null, true, 24, null));
    blocks.put("single", StackBuilderTest.attention("MQA", 2, null, false, 3, false, 0, null));
    LanguageModel model = withoutAttentionSteps()
        .build(StackBuilderTest.model(blocks, List.of("m1", "shared", "single", "shared"), 4, true, false,
            NormType.RMS_NORM));
    model.eval();

    assertThat(model.recomputingBlocks()).containsExactly("shared", "single");
    assertThat(model.decodesIncrementally()).isFalse();
    Tensor tokens = torch.randint(32, new long[] {2, 7}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      Tensor full = model.logits(tokens);
      Tensor prompt = model.decodeLogits(tokens.narrow(1, 0, 4), decoding);
      assertThat(maxDifference(prompt, full.narrow(1, 0, 4))).as("prompt positions").isLessThan(1e-5);
      for (long t = 4; t < 7; t++) {
        Tensor step = model.decodeLogits(tokens.narrow(1, t, 1), decoding);
        assertThat(maxDifference(step, full.narrow(1, t, 1))).as("position %d", t).isLessThan(1e-5);
      }
    }
  }

  @Test
  void decodeNextLogits_promptThenOneToken_equalsTheLastPositionOfTheFullForward() {
    Torch.seed(8);
    LanguageModel model = StackBuilder.installed().build(hybrid());
    model.eval();
    Tensor tokens = torch.randint(32, new long[] {2, 7}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      Tensor full = model.logits(tokens);
      Tensor prompt = model.decodeNextLogits(tokens.narrow(1, 0, 6), decoding);
      assertThat(prompt.sizes().vec().get()).containsExactly(2, 1, 32);
      assertThat(maxDifference(prompt, full.narrow(1, 5, 1))).as("after the prompt").isLessThan(1e-5);
      Tensor next = model.decodeNextLogits(tokens.narrow(1, 6, 1), decoding);
      assertThat(maxDifference(next, full.narrow(1, 6, 1))).as("after one more").isLessThan(1e-5);
      assertThat(maxDifference(model.nextLogits(tokens), full.narrow(1, 6, 1))).as("nextLogits").isLessThan(1e-5);
    }
  }

  @Test
  void bytes_aKeyValueCacheHasRoomForTheContextAndAWindowedOneHoldsTheWindow_anSsmStateDoesNotGrow() {
    Torch.seed(7);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("full", StackBuilderTest.attention("GQA", 4, 2, false, null, false, 24, null));
    blocks.put("local", StackBuilderTest.attention("MQA", 4, null, false, 3, false, 24, null));
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    LanguageModel model = StackBuilder.installed()
        .build(StackBuilderTest.model(blocks, List.of("full", "local", "m1"), 3, false, false, NormType.RMS_NORM));
    model.eval();
    long keyValueFloats = 2L * 2 * StackBuilderTest.HIDDEN / 4;  // keys and values of 2 sequences, one head wide
    Tensor tokens = torch.randint(32, new long[] {2, 9}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(2)) {
      assertThat(decoding.bytes(0)).as("before the prompt").isZero();
      model.decodeLogits(tokens.narrow(1, 0, 5), decoding);
      long ssm = decoding.bytes(2);
      assertThat(ssm).isPositive();
      for (long t = 5; t < 9; t++) {
        model.decodeLogits(tokens.narrow(1, t, 1), decoding);
        long perPosition = 4 * keyValueFloats * 2;   // 2 groups
        assertThat(decoding.bytes(0)).as("2 groups, %d positions, room for at most twice as many and 64", t + 1)
            .isGreaterThanOrEqualTo(perPosition * (t + 1)).isLessThanOrEqualTo(perPosition * (2 * (t + 1) + 64));
        assertThat(decoding.bytes(1)).as("1 group, window 3: a ring of 3 positions").isEqualTo(4 * keyValueFloats * 3);
        assertThat(decoding.bytes(2)).as("ssm state at %d positions", t + 1).isEqualTo(ssm);
      }
    }
  }

  /** The installed layers, but the transformer kind's attention without its step function. */
  private static StackBuilder withoutAttentionSteps() {
    LayerFactory attention = LayerFactories.installed().factory("transformer");
    LayerFactory ssm = LayerFactories.installed().factory("ssm");
    LayerFactories factories = LayerFactories.fromPlugins(List.of(new LayerPlugin() {
      @Override
      protected void configure() {
        addFactory("transformer", (block, context) -> new WithoutSteps(attention.mixer(block, context)));
        addFactory("ssm", ssm);
      }
    }));
    return new StackBuilder(factories, BlockKindRegistry.installed());
  }

  /** A mixer that leaves decoding to the layer SPI's default, which recomputes the whole sequence. */
  private static final class WithoutSteps extends SequenceLayer {
    private final SequenceLayer inner;

    WithoutSteps(SequenceLayer inner) {
      this.inner = register_module("inner", inner);
    }

    @Override
    public Tensor forward(Tensor input, Adapters adapters) {
      return inner.forward(input, adapters);
    }
  }

  private static double maxDifference(Tensor a, Tensor b) {
    return a.sub(b).abs().max().item_double();
  }
}
