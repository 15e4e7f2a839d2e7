package org.fastllm.cli;

import java.util.Arrays;
import java.util.Random;

/**
 * Picks the next token from one position's logits: the largest at temperature 0, else a draw from the softmax of
 * {@code logits / temperature}, kept to the {@code topK} largest and to the smallest set whose probability reaches
 * {@code topP}.
 *
 * <pre>{@code
 * // given float[] logits
 * int id = new TokenSampler(0.8, 40, 0.95, 7L).next(logits);
 * }</pre>
 *
 * <p><b>The same seed and the same logits give the same tokens.</b>
 */
final class TokenSampler {
  private final double temperature;
  private final int topK;
  private final double topP;
  private final Random random;

  /** {@code topK} 0: no limit; {@code topP} 1: no limit. */
  TokenSampler(double temperature, int topK, double topP, long seed) {
    this.temperature = temperature;
    this.topK = topK;
    this.topP = topP;
    this.random = new Random(seed);
  }

  /** True at temperature 0: the next token is the most likely one, whatever the draws. */
  boolean greedy() {
    return temperature == 0;
  }

  int next(float[] logits) {
    if (temperature == 0) {
      return argmax(logits);
    }
    Integer[] order = new Integer[logits.length];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
    int kept = topK > 0 ? Math.min(topK, logits.length) : logits.length;
    double[] weights = new double[kept];
    double total = 0;
    for (int i = 0; i < kept; i++) {
      weights[i] = Math.exp((logits[order[i]] - logits[order[0]]) / temperature);
      total += weights[i];
    }
    double reached = 0;
    for (int i = 0; i < kept; i++) {
      reached += weights[i] / total;
      if (reached >= topP) {
        kept = i + 1;
        break;
      }
    }
    double sum = 0;
    for (int i = 0; i < kept; i++) {
      sum += weights[i];
    }
    double draw = random.nextDouble() * sum;
    for (int i = 0; i < kept; i++) {
      draw -= weights[i];
      if (draw < 0) {
        return order[i];
      }
    }
    return order[kept - 1];
  }

  static int argmax(float[] logits) {
    int best = 0;
    for (int i = 1; i < logits.length; i++) {
      if (logits[i] > logits[best]) {
        best = i;
      }
    }
    return best;
  }
}
