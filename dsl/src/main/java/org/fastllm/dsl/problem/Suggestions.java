package org.fastllm.dsl.problem;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Finds the closest known word to a misspelled one, for "did you mean" hints.
 *
 * <pre>{@code Suggestions.closest("bobb", List.of("alice", "bob"))  // Optional[bob]}</pre>
 */
public final class Suggestions {
  private Suggestions() {}

  /** The candidate at the smallest edit distance, if that distance is small for the word's length. */
  public static Optional<String> closest(String word, Collection<String> candidates) {
    int allowed = Math.max(2, word.length() / 3);
    return candidates.stream()
        .filter(c -> distance(word, c) <= allowed)
        .min(Comparator.comparingInt((String c) -> distance(word, c)).thenComparing(c -> c));
  }

  /** {@code " (did you mean 'x'?)"} or the empty string. */
  public static String didYouMean(String word, Collection<String> candidates) {
    return closest(word, candidates).map(c -> " (did you mean '" + c + "'?)").orElse("");
  }

  static int distance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = Character.toLowerCase(a.charAt(i - 1)) == Character.toLowerCase(b.charAt(j - 1)) ? 0 : 1;
        current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
