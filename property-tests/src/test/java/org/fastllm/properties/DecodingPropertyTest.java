package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
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
 * after a prompt, are those of the full forward at every position, in float32; so are those of a decoding fixed after
 * its first piece ({@link Decoding#fix}: the steps a CUDA graph records, each reading its position on the device).
 *
 * <p><b>Tolerance: at each position, the largest difference over the batch and the vocabulary is at most
 * {@value #TOLERANCE} of the largest logit of the full forward, plus {@value #ROUNDING_FACTOR} times the full
 * forward's own float32 error there</b> (measured against the same model in float64). The second term matters only
 * where a drawn model is ill-conditioned (a layer norm over a few features of nearly equal values, say): there the
 * full forward alone is off by about 1e-5 and the two float32 computations cannot agree more closely, while in
 * float64 they agree to 1e-14. A decoding bug (a cache, window, adapter or state left out) is off by 1e-3 or more.
 */
class DecodingPropertyTest {
  /** The largest difference allowed, relative to the largest logit of the full forward. */
  static final double TOLERANCE = 1e-5;
  /** How many times the full forward's own float32 rounding error a position may differ by, on top. */
  static final int ROUNDING_FACTOR = 4;
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
      assertThat(model.recomputingBlocks()).as("every built-in mixer continues from a cache").isEmpty();
      try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
        Tensor tokens = torch.randint(c.model().model().withDefaults().config().vocabSize(),
            new long[] {c.batch(), c.length()}, new TensorOptions(torch.ScalarType.Long));
        Tensor full = model.logits(tokens);
        Tensor oneByOne = decoded(model, tokens, java.util.Collections.nCopies(c.length(), 1));
        Tensor inPieces = decoded(model, tokens, c.pieces());
        Tensor fixed = decodedFixed(model, tokens, c.pieces().get(0));
        model.to(torch.ScalarType.Double, false);
        Tensor exact = model.logits(tokens);
        double scale = full.abs().max().item_double();
        for (long t = 0; t < c.length(); t++) {
          double rounding = largestDifference(full, exact, t);
          double allowed = TOLERANCE * scale + ROUNDING_FACTOR * rounding;
          String where = "position %d (largest logit %.4g, the full forward's own float32 error there %.3g)";
          assertThat(largestDifference(oneByOne, full, t)).as("token by token: " + where, t, scale, rounding)
              .isLessThanOrEqualTo(allowed);
          assertThat(largestDifference(inPieces, full, t)).as("in pieces " + c.pieces() + ": " + where, t, scale,
              rounding).isLessThanOrEqualTo(allowed);
          assertThat(largestDifference(fixed, full, t)).as("fixed after " + c.pieces().get(0) + ": " + where, t,
              scale, rounding).isLessThanOrEqualTo(allowed);
        }
      }
    });
  }

  /** The logits of {@code tokens} decoded in pieces of the given lengths, put back together along time. */
  private static Tensor decoded(LanguageModel model, Tensor tokens, List<Integer> pieces) {
    TensorVector logits = new TensorVector();
    try (Decoding decoding = model.startDecoding(tokens.size(0))) {
      long at = 0;
      for (int piece : pieces) {
        logits.push_back(model.decodeLogits(tokens.narrow(1, at, piece), decoding));
        at += piece;
      }
      assertThat(decoding.position()).isEqualTo(at);
    }
    return torch.cat(logits, 1);
  }

  /** The logits of {@code tokens}: a prompt of {@code prompt}, then the decoding fixed and one token per step. */
  private static Tensor decodedFixed(LanguageModel model, Tensor tokens, int prompt) {
    TensorVector logits = new TensorVector();
    try (Decoding decoding = model.startDecoding(tokens.size(0))) {
      logits.push_back(model.decodeLogits(tokens.narrow(1, 0, prompt), decoding));
      assertThat(decoding.fix(tokens.size(1) + 1, tokens)).as("why the decoding was not fixed").isNull();
      for (long at = prompt; at < tokens.size(1); at++) {
        decoding.fixedPosition().fill_(new Scalar(at));
        logits.push_back(model.decodeLogits(tokens.narrow(1, at, 1), decoding));
      }
    }
    return torch.cat(logits, 1);
  }

  private static double largestDifference(Tensor a, Tensor b, long position) {
    return a.narrow(1, position, 1).to(torch.ScalarType.Double).sub(b.narrow(1, position, 1)).abs().max()
        .item_double();
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
