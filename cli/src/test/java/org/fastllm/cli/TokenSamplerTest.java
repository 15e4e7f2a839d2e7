package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** {@link TokenSampler}: draw frequencies against the softmax computed here in double precision. */
class TokenSamplerTest {
  private static final float[] LOGITS = {0.5f, 2.0f, -1.0f, 1.5f};
  private static final int DRAWS = 40_000;

  private static double[] frequencies(TokenSampler sampler) {
    double[] counts = new double[LOGITS.length];
    for (int i = 0; i < DRAWS; i++) {
      counts[sampler.next(LOGITS)] += 1.0 / DRAWS;
    }
    return counts;
  }

  private static double[] softmax(double temperature, int... kept) {
    double[] p = new double[LOGITS.length];
    double total = 0;
    for (int i : kept) {
      p[i] = Math.exp(LOGITS[i] / temperature);
      total += p[i];
    }
    for (int i : kept) {
      p[i] /= total;
    }
    return p;
  }

  @Test
  void temperature_drawsFollowTheSoftmaxOfTheScaledLogits() {
    double[] seen = frequencies(new TokenSampler(0.7, 0, 1, 5));
    double[] expected = softmax(0.7, 0, 1, 2, 3);
    for (int i = 0; i < LOGITS.length; i++) {
      assertThat(seen[i]).as("token %d", i).isCloseTo(expected[i], within(0.01));
    }
  }

  @Test
  void topK_drawsOnlyAmongTheKLargest() {
    double[] seen = frequencies(new TokenSampler(1, 2, 1, 5));
    double[] expected = softmax(1, 1, 3);
    for (int i = 0; i < LOGITS.length; i++) {
      assertThat(seen[i]).as("token %d", i).isCloseTo(expected[i], within(0.01));
    }
  }

  @Test
  void topP_keepsTheSmallestSetReachingP() {
    // at temperature 1 token 1 alone has p ~ 0.53, tokens 1 and 3 together ~ 0.85
    assertThat(frequencies(new TokenSampler(1, 0, 0.5, 5))[1]).isEqualTo(1.0, within(1e-9));
    double[] seen = frequencies(new TokenSampler(1, 0, 0.8, 5));
    double[] expected = softmax(1, 1, 3);
    for (int i = 0; i < LOGITS.length; i++) {
      assertThat(seen[i]).as("token %d", i).isCloseTo(expected[i], within(0.01));
    }
  }

  @Test
  void zeroTemperature_isTheArgmax() {
    assertThat(new TokenSampler(0, 0, 1, 5).next(LOGITS)).isEqualTo(1);
  }
}
