package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * For generated models of every built-in mixer: the logits of decoding a sequence, one token at a time or in pieces
 * after a prompt, are those of the full forward at every position (float32, relative {@value #TOLERANCE}).
 */
class DecodingPropertyTest {
  /** The largest difference allowed, relative to the largest logit of the full forward. */
  static final double TOLERANCE = 1e-5;
  /** The standard deviation of the LoRA B weights drawn for a case. */
  private static final double LORA_B_SCALE = 0.2;

  /**
   * A model, the weights' seed, {@code batch} sequences of {@code length} tokens and the lengths of the pieces they
   * are decoded in after being decoded one token at a time.
   */
  record Case(ConfigDocument model, long weightSeed, int batch, int length, List<Integer> pieces) {
    String describe() {
      return "weight seed " + weightSeed + ", batch " + batch + ", length " + length + ", pieces " + pieces
          + ", config:\n" + ConfigPipeline.yaml(model);
    }
  }

  static Arbitrary<Case> cases() {
    return draw -> {
      ConfigDocument model = DecodingModels.documents().next(draw);
      // past the selective scan's chunk of 8 and across several of the discrete scan's chunks of 1 to 5
      int length = draw.between(9, DecodingModels.MAX_LENGTH);
      List<Integer> pieces = new ArrayList<>();
      for (int left = length; left > 0; left -= pieces.get(pieces.size() - 1)) {
        pieces.add(pieces.isEmpty() ? draw.between(1, left) : Math.min(left, draw.between(1, 4)));
      }
      return new Case(model, draw.between(0, Integer.MAX_VALUE - 1), draw.between(1, 2), length, pieces);
    };
  }

  @BeforeAll
  static void oneThread() {
    torch.set_num_threads(1); // the CI machine's two cores are shared
  }

  @Test
  void decodeLogits_tokenByTokenAndInPieces_equalTheFullForwardAtEveryPosition() {
    Properties.check("decoding equals the full forward", 50, cases().describedAs(Case::describe), c -> {
      LanguageModel model = build(c);
      try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
        Tensor tokens = torch.randint(c.model().model().withDefaults().config().vocabSize(),
            new long[] {c.batch(), c.length()}, new TensorOptions(torch.ScalarType.Long));
        Tensor full = model.logits(tokens);
        double scale = full.abs().max().item_double();
        List<Integer> ones = java.util.Collections.nCopies(c.length(), 1);
        assertDecodes(model, tokens, full, scale, ones, "token by token");
        assertDecodes(model, tokens, full, scale, c.pieces(), "in pieces " + c.pieces());
      }
    });
  }

  private static void assertDecodes(LanguageModel model, Tensor tokens, Tensor full, double scale,
      List<Integer> pieces, String how) {
    try (Decoding decoding = model.startDecoding(tokens.size(0))) {
      long at = 0;
      for (int piece : pieces) {
        Tensor decoded = model.decodeLogits(tokens.narrow(1, at, piece), decoding);
        double difference = decoded.sub(full.narrow(1, at, piece)).abs().max().item_double();
        assertThat(difference / scale)
            .as("%s: positions %d to %d differ by %g with logits up to %g", how, at, at + piece - 1, difference, scale)
            .isLessThanOrEqualTo(TOLERANCE);
        at += piece;
      }
    }
  }

  /** The model in eval mode, its weights drawn from the case's seed, every LoRA update made to matter. */
  private static LanguageModel build(Case c) {
    torch.manual_seed(c.weightSeed());
    LanguageModel model = StackBuilder.installed().build(
        ConfigPipeline.LOADER.check(c.model()).resolved().model().withDefaults());
    model.eval();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (NamedParameter p : model.uniqueParameters()) {
        // LoRA's B starts at zero, which would hide an adapter left out of decoding; updates of the base weights'
        // size, not many times it, keep float32 rounding at the level of a trained model's
        if (p.name().endsWith(".b") && (p.name().contains(".lora.") || p.name().startsWith("adapters."))) {
          p.tensor().copy_(torch.randn_like(p.tensor()).mul(new Scalar(LORA_B_SCALE)));
        }
      }
    }
    return model;
  }
}
