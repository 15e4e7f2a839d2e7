package org.fastllm.properties;

import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import org.quicktheories.QuickTheory;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/**
 * Runs a property over generated values with a seed that is always reported, so any failure can be replayed.
 *
 * <pre>{@code
 * Properties.check("expansion has num_layers entries", 200, ConfigGenerators.documents(), doc -> { ... });
 * // replay a failure: mvn -B verify -pl property-tests -am -Dproperties.seed=123456789
 * }</pre>
 *
 * <p><b>The only class that knows the engine (QuickTheories);</b> generators and properties see {@link Draw},
 * {@link Arbitrary} and plain assertions, so the engine can be swapped here alone.
 * System properties: {@code properties.seed} fixes the seed (else a random one is drawn per property);
 * {@code properties.examples} overrides every property's number of examples.
 */
public final class Properties {
  public static final String SEED = "properties.seed";
  public static final String EXAMPLES = "properties.examples";

  private Properties() {}

  /** Checks {@code property} on {@code examples} generated values; a failure names the property and its seed. */
  public static <T> void check(String name, int examples, Arbitrary<T> arbitrary, Consumer<T> property) {
    long seed = seed();
    int count = Integer.getInteger(EXAMPLES, examples);
    System.out.println("property '" + name + "': " + count + " examples, seed " + seed);
    Gen<T> gen = source -> arbitrary.next((min, max) -> Generate.range(min, max).generate(source));
    try {
      QuickTheory.qt()
          .withFixedSeed(seed)
          .withExamples(count)
          .withShrinkCycles(50)
          .forAll(gen.describedAs(arbitrary::describe))
          .checkAssert(property);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("property '" + name + "' failed; seed " + seed
          + " (replay with -D" + SEED + "=" + seed + ")\n" + e.getMessage(), e);
    }
  }

  private static long seed() {
    String fixed = System.getProperty(SEED);
    if (fixed != null && !fixed.isBlank()) {
      return Long.parseLong(fixed.strip());
    }
    return ThreadLocalRandom.current().nextLong();
  }
}
