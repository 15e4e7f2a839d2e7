package org.fastllm.properties.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Loads one config file in a fresh JVM and exits: what {@code validate} costs from a cold start.
 *
 * <pre>{@code java -cp ... org.fastllm.properties.bench.ColdValidate /tmp/scale.yaml}</pre>
 */
public final class ColdValidate {
  private ColdValidate() {}

  public static void main(String[] args) {
    try {
      long main = System.nanoTime();
      ConfigLoader loader = ConfigLoader.standard();
      long built = System.nanoTime();
      LoadedConfig config = loader.load(Path.of(args[0]));
      long loaded = System.nanoTime();
      System.out.println(config.plan().layers().size() + " layers, " + config.count().total() + " parameters");
      System.out.printf("JVM start to main %d ms, ConfigLoader.standard() %d ms, load %d ms%n",
          ManagementFactory.getRuntimeMXBean().getUptime() - (loaded - main) / 1_000_000,
          (built - main) / 1_000_000, (loaded - built) / 1_000_000);
    } catch (InvalidConfigException e) {
      System.err.println(e.getMessage());
      System.exit(1);
    }
  }
}
