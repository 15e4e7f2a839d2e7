package org.fastllm.properties;

import java.util.function.Function;

/**
 * A generator of values from random choices, and how to show a value to a person reading a failure.
 *
 * <pre>{@code Arbitrary<ConfigDocument> docs = ConfigGenerators.documents(); docs.next(Draw.from(new Random(1)));}</pre>
 *
 * <p>Engine-neutral: it sees only {@link Draw}; {@link Properties} adapts it to the engine in use.
 */
@FunctionalInterface
public interface Arbitrary<T> {

  T next(Draw draw);

  /** How a falsifying value is printed; by default its {@code toString}. */
  default String describe(T value) {
    return String.valueOf(value);
  }

  default <R> Arbitrary<R> map(Function<? super T, ? extends R> f) {
    return draw -> f.apply(next(draw));
  }

  /** The same values, printed with {@code describer}. */
  default Arbitrary<T> describedAs(Function<? super T, String> describer) {
    Arbitrary<T> self = this;
    return new Arbitrary<>() {
      @Override
      public T next(Draw draw) {
        return self.next(draw);
      }

      @Override
      public String describe(T value) {
        return describer.apply(value);
      }
    };
  }
}
