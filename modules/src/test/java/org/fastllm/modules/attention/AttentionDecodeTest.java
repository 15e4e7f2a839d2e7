package org.fastllm.modules.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Decoding from the key/value cache gives the full forward's outputs at the positions decoded. */
class AttentionDecodeTest {
  private static final int TIME = 11;
  private static final int PROMPT = 4;

  /** MHA, GQA and MQA; rotary or not; no window, windows shorter and longer than the prompt; fused or explicit. */
  static List<Arguments> cases() {
    List<Arguments> cases = new ArrayList<>();
    for (int groups : new int[] {4, 2, 1}) {
      for (boolean rotary : new boolean[] {false, true}) {
        for (int window : new int[] {0, 1, 3, 6}) {
          for (boolean fused : new boolean[] {false, true}) {
            cases.add(Arguments.of(new AttentionTest.Case(2, TIME, 4, groups, 4, window, rotary, true, fused, true)));
          }
        }
      }
    }
    return cases;
  }

  @ParameterizedTest
  @MethodSource("cases")
  void decode_promptThenOnePositionAtATime_equalsForward(AttentionTest.Case c) {
    assertDecodesLikeForward(c, 1);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void decode_promptThenChunksOfThree_equalsForward(AttentionTest.Case c) {
    assertDecodesLikeForward(c, 3);
  }

  @Test
  void decodesIncrementally_causalOnly() {
    LayerContext context = LayerContext.defaults();
    assertThat(Attention.of(new AttentionTest.Case(1, 4, 2, 1, 4, 0, true, false, false, true).config(), context)
        .decodesIncrementally()).isTrue();
    assertThat(Attention.of(new AttentionTest.Case(1, 4, 2, 1, 4, 0, true, false, false, false).config(), context)
        .decodesIncrementally()).as("a non-causal layer recomputes").isFalse();
  }

  @Test
  void decode_nonCausal_recomputesToTheFullForward() {
    AttentionTest.Case c = new AttentionTest.Case(2, TIME, 4, 2, 4, 0, true, true, false, false);
    Attention attention = Attention.of(c.config(), LayerContext.defaults());
    Torch.seed(3);
    Tensor x = Torch.randn(torch.ScalarType.Float, 2, TIME, 8);
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = attention.startDecoding(2)) {
      attention.decode(x.narrow(1, 0, TIME - 1), Adapters.NONE, state);
      Tensor last = attention.decode(x.narrow(1, TIME - 1, 1), Adapters.NONE, state);
      assertThat(Torch.relativeError(last, attention.forward(x).narrow(1, TIME - 1, 1))).isLessThan(1e-5);
    }
  }

  /** Pieces of uneven lengths, some longer than the window, that start and end anywhere in the ring. */
  @ParameterizedTest
  @CsvSource(textBlock = """
      1, 0
      3, 0
      3, 1
      6, 0
      6, 2
      """)
  void decode_slidingWindowOverALongContext_equalsForwardAndHoldsAtMostTheWindow(int window, int groupsLog) {
    int groups = 4 >> groupsLog;
    int time = 41;
    AttentionTest.Case c = new AttentionTest.Case(1, time, 4, groups, 4, window, true, true, false, true);
    Torch.seed(window * 10 + groups);
    Attention attention = Attention.of(c.config(), LayerContext.defaults());
    Tensor x = Torch.randn(torch.ScalarType.Float, 1, time, 8);
    int[] pieces = {2, 1, 7, 1, 1, 5, 3, 1, 4, 6, 1, 2, 1, 1, 5};
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = attention.startDecoding(1)) {
      Tensor full = attention.forward(x);
      KeyValueCache cache = (KeyValueCache) state;
      long start = 0;
      for (int length : pieces) {
        try (PointerScope step = new PointerScope()) {
          Tensor out = attention.decode(x.narrow(1, start, length), Adapters.NONE, state);
          assertThat(Torch.relativeError(out, full.narrow(1, start, length)))
              .as("window %d, positions %d to %d", window, start, start + length - 1).isLessThan(1e-5);
        }
        start += length;
        assertThat(cache.capacity()).as("room after %d positions", start).isEqualTo(window);
      }
      assertThat(start).isEqualTo(time);
    }
  }

  @Test
  void decode_withoutWindow_growsItsBuffersGeometrically() {
    AttentionTest.Case c = new AttentionTest.Case(1, 4, 2, 1, 4, 0, true, true, false, true);
    Attention attention = Attention.of(c.config(), LayerContext.defaults());
    Torch.seed(9);
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = attention.startDecoding(1)) {
      KeyValueCache cache = (KeyValueCache) state;
      Set<Long> capacities = new HashSet<>();
      attention.decode(Torch.randn(torch.ScalarType.Float, 1, 10, 8), Adapters.NONE, state);
      for (int i = 0; i < 500; i++) {
        try (PointerScope step = new PointerScope()) {
          attention.decode(Torch.randn(torch.ScalarType.Float, 1, 1, 8), Adapters.NONE, state);
        }
        assertThat(cache.capacity()).isGreaterThanOrEqualTo(cache.seen()).isLessThan(2 * cache.seen() + 2 * 64);
        capacities.add(cache.capacity());
      }
      assertThat(capacities).as("reallocations for 510 positions").hasSizeLessThanOrEqualTo(4);
    }
  }

  private static void assertDecodesLikeForward(AttentionTest.Case c, int chunk) {
    Torch.seed(c.hashCode());
    Attention attention = Attention.of(c.config(), LayerContext.defaults());
    Tensor x = Torch.randn(torch.ScalarType.Float, c.batch(), TIME, 8);
    try (NoGradGuard noGrad = new NoGradGuard(); DecodeState state = attention.startDecoding(c.batch())) {
      Tensor full = attention.forward(x);
      KeyValueCache cache = (KeyValueCache) state;
      for (long start = 0; start < TIME; ) {
        long length = start == 0 ? PROMPT : Math.min(chunk, TIME - start);
        try (PointerScope step = new PointerScope()) {   // the cache outlives each step's tensors
          Tensor out = attention.decode(x.narrow(1, start, length), Adapters.NONE, state);
          assertThat(Torch.relativeError(out, full.narrow(1, start, length)))
              .as("%s, positions %d to %d", c, start, start + length - 1).isLessThan(1e-5);
        }
        start += length;
        assertThat(cache.seen()).isEqualTo(start);
        assertThat(cache.cached()).as("%s after %d positions", c, start)
            .isEqualTo(c.window() > 0 ? Math.min(start, c.window()) : start);
      }
    }
  }
}
