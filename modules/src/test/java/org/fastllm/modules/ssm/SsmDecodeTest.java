package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.testing.Torch;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** An SSM mixer decoding a prompt and then pieces gives forward's outputs, with a state that does not grow. */
class SsmDecodeTest {
  static final int TIME = 13;
  static final int PROMPT = 6;

  /** Mixers with scan chunks of 4 (borders at 4, 8, 12 are crossed), every variant and mamba2 repeat choice. */
  static List<SsmMixersTest.Case> cases() {
    List<SsmMixersTest.Case> cases = new ArrayList<>();
    for (SsmVariant variant : SsmVariant.values()) {
      for (boolean repeatBeforeConv : new boolean[] {false, true}) {
        if (variant != SsmVariant.MAMBA2 && repeatBeforeConv) {
          continue;
        }
        cases.add(new SsmMixersTest.Case(variant, 2, TIME, 3, 4, 2, 4, 4, true, repeatBeforeConv,
            SsmMixersTest.float32Flag.FLOAT32));
        cases.add(new SsmMixersTest.Case(variant, 1, TIME, 2, 2, 1, 4, 1, false, repeatBeforeConv,
            SsmMixersTest.float32Flag.FLOAT32));
      }
    }
    return cases;
  }

  static SequenceLayer mixer(SsmMixersTest.Case c) {
    return switch (c.variant()) {
      case MAMBA1 -> Mamba1Mixer.of(c.config(), SelectiveScan.tensorOperations(c.chunk()));
      case MAMBA2 -> Mamba2Mixer.of(c.config(), SelectiveScan.tensorOperations(c.chunk()));
      case DISCRETE_MAMBA2 -> DiscreteMamba2Mixer.of(c.config());
      case MAMBA2_STANDARD -> StandardMamba2Mixer.of(c.config());
    };
  }

  @ParameterizedTest
  @MethodSource("cases")
  void decode_promptThenSingleTokens_equalsForwardWithAFixedSizeState(SsmMixersTest.Case c) {
    checkPieces(c, 1);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void decode_promptThenChunksOfThree_equalsForwardWithAFixedSizeState(SsmMixersTest.Case c) {
    checkPieces(c, 3);
  }

  /** Pieces longer than a scan chunk, starting mid-chunk from a non-zero state, go through the chunked scans. */
  @ParameterizedTest
  @MethodSource("cases")
  void decode_promptThenPiecesOfFive_equalsForwardWithAFixedSizeState(SsmMixersTest.Case c) {
    checkPieces(c, 5);
  }

  private static void checkPieces(SsmMixersTest.Case c, int piece) {
    Torch.seed(7);
    SequenceLayer mixer = mixer(c);
    assertThat(mixer.decodesIncrementally()).isTrue();
    Tensor input = torch.randn(c.batch(), TIME, SsmMixersTest.HIDDEN);
    try (NoGradGuard noGrad = new NoGradGuard();
        SsmDecodeState state = (SsmDecodeState) mixer.startDecoding(c.batch())) {
      Tensor full = mixer.forward(input);
      assertClose(mixer.decode(input.narrow(1, 0, PROMPT), Adapters.NONE, state), full.narrow(1, 0, PROMPT), c);
      long size = state.elements();
      for (long start = PROMPT; start < TIME; start += piece) {
        long length = Math.min(piece, TIME - start);
        try (PointerScope step = new PointerScope()) {
          Tensor out = mixer.decode(input.narrow(1, start, length), Adapters.NONE, state);
          assertClose(out, full.narrow(1, start, length), c);
        }
        assertThat(state.elements()).as("state size after position %d", start + length).isEqualTo(size);
      }
    }
  }

  private static void assertClose(Tensor actual, Tensor expected, SsmMixersTest.Case c) {
    double scale = Math.max(expected.abs().max().item_double(), 1e-3);
    assertThat(actual.sizes().vec().get()).isEqualTo(expected.sizes().vec().get());
    assertThat(actual.sub(expected).abs().max().item_double() / scale).as(c.toString()).isLessThan(1e-5);
  }
}
