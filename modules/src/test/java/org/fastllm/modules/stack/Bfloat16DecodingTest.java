package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/** Decoding with the weights in bfloat16: close to float32, caches in bfloat16, never stale weights. */
class Bfloat16DecodingTest {
  private static final int STEPS = 12;

  private static ResolvedModel llama() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("a", StackBuilderTest.attention("GQA", 4, 2, false, null, false, 24, null));
    return StackBuilderTest.model(blocks, List.of("a"), 3, false, false, NormType.RMS_NORM);
  }

  @Test
  void decodeLogits_bfloat16Weights_choosesTokensFloat32RatesAsGoodAndHoldsHalfTheCacheBytes() {
    Torch.seed(11);
    LanguageModel fp32 = StackBuilder.installed().build(llama());
    Torch.seed(11);
    LanguageModel bf16 = StackBuilder.installed().build(llama());
    bf16.to(torch.ScalarType.BFloat16, false);
    fp32.eval();
    bf16.eval();
    Tensor prompt = torch.randint(32, new long[] {1, 6}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding exact = fp32.startDecoding(1);
        Decoding half = bf16.startDecoding(1)) {
      Tensor feed = prompt;
      for (int step = 0; step < STEPS; step++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor expected = fp32.decodeNextLogits(feed, exact).flatten();
          Tensor got = bf16.decodeNextLogits(feed, half).flatten();
          assertThat(got.scalar_type().intern()).isEqualTo(torch.ScalarType.BFloat16);
          Tensor gotFloat = got.to(torch.ScalarType.Float);
          double range = expected.max().item_double() - expected.min().item_double();
          assertThat(gotFloat.sub(expected).abs().max().item_double()).as("step %d", step)
              .isLessThan(0.05 * range);
          // the token bfloat16 picks is, by float32's logits, within the rounding of float32's own choice
          long chosen = gotFloat.argmax(new LongOptional(0), false).item_long();
          assertThat(expected.max().item_double() - expected.select(0, chosen).item_double()).as("step %d", step)
              .isLessThan(0.05 * range);
          // both continue with float32's greedy token, so that the steps compare the same sequences
          Tensor next = expected.argmax(new LongOptional(0), false).view(1, 1);
          feed = new Tensor(next);
          feed.retainReference();
          scope.detach(feed);
        }
      }
      for (int layer = 0; layer < 3; layer++) {
        assertThat(half.bytes(layer)).as("layer %d", layer).isPositive().isEqualTo(exact.bytes(layer) / 2);
      }
    }
  }

  @Test
  void decodeLogits_afterTheWeightsChanged_readsTheNewWeights() {
    Torch.seed(12);
    LanguageModel model = StackBuilder.installed().build(llama());
    model.eval();
    Tensor tokens = torch.randint(32, new long[] {1, 5}, new TensorOptions(torch.ScalarType.Long));
    try (NoGradGuard noGrad = new NoGradGuard()) {
      try (Decoding first = model.startDecoding(1)) {
        model.decodeLogits(tokens.narrow(1, 0, 4), first);
        model.decodeLogits(tokens.narrow(1, 4, 1), first);
      }
      model.uniqueParameters().stream().filter(p -> p.name().contains("mixer"))
          .forEach(p -> p.tensor().mul_(new Scalar(1.5)));
      try (Decoding second = model.startDecoding(1)) {
        model.decodeLogits(tokens.narrow(1, 0, 4), second);
        Tensor step = model.decodeLogits(tokens.narrow(1, 4, 1), second);
        Tensor full = model.logits(tokens).narrow(1, 4, 1);
        assertThat(step.sub(full).abs().max().item_double()).isLessThan(1e-5);
      }
    }
  }
}
