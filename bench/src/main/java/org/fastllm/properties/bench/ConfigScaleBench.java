package org.fastllm.properties.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import org.fastllm.dsl.bind.ConfigBinder;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.count.ParameterAccounting;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.fastllm.properties.ConfigGenerators;
import org.fastllm.properties.ConfigPipeline;
import org.fastllm.properties.Draw;
import org.fastllm.validation.load.ConfigLoader;

/**
 * Warm, in-process timing of loading a 10,000-layer config with 50 block definitions (read + validate + expand +
 * count, {@link ConfigLoader#load(Path)}), against a baseline measured in the same run: reading the YAML tree alone.
 *
 * <pre>{@code
 * java -cp ... org.fastllm.properties.bench.ConfigScaleBench --write /tmp/scale.yaml   # write the config
 * java -cp ... org.fastllm.properties.bench.ConfigScaleBench /tmp/scale.yaml           # time it
 * }</pre>
 *
 * <p>Also times each stage on its own (tree, binding, check = defaults + validation + expansion + count, and
 * expansion and count alone) so a slow load names its stage. Not a test: {@code bench/config-scale.sh} runs it.
 */
public final class ConfigScaleBench {
  static final int LAYERS = 10_000;
  static final int BLOCKS = 50;
  static final int HIDDEN = 1024;
  private static final int WARMUP = Integer.getInteger("bench.warmup", 20);
  private static final int MEASURED = Integer.getInteger("bench.measured", 50);

  private ConfigScaleBench() {}

  public static void main(String[] args) throws IOException {
    if (args.length == 2 && args[0].equals("--write")) {
      Path file = Path.of(args[1]);
      Files.writeString(file, ConfigPipeline.yaml(config(new Random(242))));
      System.out.printf("wrote %s (%d layers, %d blocks, %d bytes)%n", file, LAYERS, BLOCKS, Files.size(file));
      return;
    }
    if (args.length != 1) {
      System.err.println("usage: ConfigScaleBench --write FILE | ConfigScaleBench FILE");
      System.exit(2);
    }
    Path file = Path.of(args[0]);
    ConfigLoader loader = ConfigLoader.standard();
    YamlTreeReader reader = new YamlTreeReader();
    ConfigBinder binder = new ConfigBinder(loader.kinds());
    var document = reader.read(file);
    ConfigDocument written = binder.bind(document);
    ModelConfig resolved = written.withDefaults().model();
    var plan = BlockPattern.expand(resolved);

    // the two are warmed up and measured in alternation, so neither is timed with the other's JIT advantage
    Timing[] compared = timeAlternating(() -> reader.read(file), () -> loader.load(file));
    Timing parse = compared[0];
    Timing load = compared[1];
    System.out.printf(Locale.ROOT, "config: %s, %d layers, %d blocks, %d warm-up + %d measured runs%n",
        file, LAYERS, BLOCKS, WARMUP, MEASURED);
    System.out.println(parse.line("baseline: YAML tree only (YamlTreeReader.read)"));
    System.out.println(load.line("ConfigLoader.load: read + validate + expand + count"));
    System.out.printf(Locale.ROOT, "ratio load / baseline: median %.2fx, p90 %.2fx%n",
        load.median() / parse.median(), load.p90() / parse.p90());
    System.out.println("stages, each timed alone:");
    System.out.println(time(() -> binder.bind(document)).line("  bind tree to records (shape check + Jackson)"));
    System.out.println(time(() -> loader.check(written)).line("  check: defaults + validation + expand + count"));
    System.out.println(time(written::withDefaults).line("  defaults (withDefaults)"));
    System.out.println(time(() -> BlockPattern.expand(resolved)).line("  expand (BlockPattern.expand)"));
    System.out.println(time(() -> ParameterAccounting.count(plan, loader.kinds())).line("  count (ParameterAccounting)"));
  }

  /** The benchmark config: 50 random valid blocks of every kind and variant, an explicit 10,000-entry pattern. */
  static ConfigDocument config(Random random) {
    Draw draw = Draw.from(random);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    for (int i = 0; i < BLOCKS; i++) {
      blocks.put("block_" + i, ConfigGenerators.block(draw, HIDDEN, false));
    }
    List<String> names = new ArrayList<>(blocks.keySet());
    List<String> pattern = new ArrayList<>(LAYERS);
    for (int i = 0; i < LAYERS; i++) {
      pattern.add(i < BLOCKS ? names.get(i) : draw.pick(names)); // every block used at least once
    }
    return new ConfigDocument(new ModelConfig(HIDDEN, null, null, null, blocks, pattern, LAYERS, null, null));
  }

  /** Milliseconds of the measured runs, sorted. */
  record Timing(double[] millis) {
    double median() {
      return millis[millis.length / 2];
    }

    double p90() {
      return millis[(int) Math.ceil(millis.length * 0.9) - 1];
    }

    String line(String what) {
      return String.format(Locale.ROOT, "%-56s median %8.2f ms   p90 %8.2f ms", what, median(), p90());
    }
  }

  static Timing time(Supplier<?> task) {
    return timeAlternating(task)[0];
  }

  /** Each task warmed up and measured in turn, round by round. */
  static Timing[] timeAlternating(Supplier<?>... tasks) {
    for (int i = 0; i < WARMUP; i++) {
      for (Supplier<?> task : tasks) {
        requireResult(task.get());
      }
    }
    double[][] millis = new double[tasks.length][MEASURED];
    for (int i = 0; i < MEASURED; i++) {
      for (int t = 0; t < tasks.length; t++) {
        long start = System.nanoTime();
        Object result = tasks[t].get();
        millis[t][i] = (System.nanoTime() - start) / 1e6;
        requireResult(result);
      }
    }
    return Arrays.stream(millis).map(m -> {
      Arrays.sort(m);
      return new Timing(m);
    }).toArray(Timing[]::new);
  }

  private static void requireResult(Object result) {
    if (result == null) {
      throw new IllegalStateException("a timed task returned nothing");
    }
  }
}
