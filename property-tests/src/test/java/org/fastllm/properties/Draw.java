package org.fastllm.properties;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * A source of random choices for generators, independent of the property-testing engine that drives it.
 *
 * <pre>{@code int heads = draw.pick(List.of(1, 2, 4, 8)); Integer ffn = draw.maybe(70, () -> draw.between(0, 64));}</pre>
 *
 * <p><b>Every random choice a generator makes goes through {@link #between}</b>, so an engine that records and
 * shrinks those choices (QuickTheories does) can shrink any generated value.
 */
public interface Draw {

  /** A whole number from {@code min} to {@code max}, both included. */
  int between(int min, int max);

  default boolean bool() {
    return between(0, 1) == 1;
  }

  /** True with the given probability, in percent. */
  default boolean chance(int percent) {
    return between(1, 100) <= percent;
  }

  default <T> T pick(List<T> options) {
    return options.get(between(0, options.size() - 1));
  }

  @SafeVarargs
  static <T> List<T> of(T... options) {
    // unlike List.of, allows null: "leave the key out"; copied, since handing the array on is what
    // @SafeVarargs rules out
    List<T> copy = new java.util.ArrayList<>(options.length);
    for (T option : options) {
      copy.add(option);
    }
    return copy;
  }

  /** {@code value} with the given probability (percent), else null: an optional key written or left out. */
  default <T> T maybe(int percent, Supplier<T> value) {
    return chance(percent) ? value.get() : null;
  }

  /** Null, true or false: an optional boolean key. */
  default Boolean maybeBool() {
    return pick(of(null, true, false));
  }

  /** A non-empty sub-list of {@code options}, order kept. */
  default <T> List<T> someOf(List<T> options) {
    List<T> chosen = new ArrayList<>();
    for (T option : options) {
      if (bool()) {
        chosen.add(option);
      }
    }
    return chosen.isEmpty() ? List.of(pick(options)) : chosen;
  }

  /** Choices from a seeded {@link Random}, for benchmarks and examples outside a property run. */
  static Draw from(Random random) {
    return (min, max) -> min + random.nextInt(max - min + 1);
  }
}
