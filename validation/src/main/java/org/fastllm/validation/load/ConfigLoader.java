package org.fastllm.validation.load;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import org.fastllm.dsl.bind.ConfigBinder;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.dsl.count.ParameterAccounting;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.migrate.FormatAdapter;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.StackPlan;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.ConfigOverrides;
import org.fastllm.dsl.yaml.ReadLimits;
import org.fastllm.dsl.yaml.SourceMap;
import org.fastllm.dsl.yaml.YamlDocument;
import org.fastllm.dsl.yaml.YamlTreeReader;

/**
 * The config pipeline short of tensors: YAML text, tree with locations, old-format adapter, records, defaults,
 * validation (every problem at once), expansion and parameter counts.
 *
 * <pre>{@code
 * LoadedConfig config = ConfigLoader.standard().load(Path.of("model.yaml"));
 * config.plan().layers().size();   // num_layers
 * config.count().total();          // exact parameters
 * }</pre>
 *
 * <p><b>Either every problem is thrown in one {@link InvalidConfigException}, or the config is fully usable.</b>
 * Nothing here loads native code.
 */
public final class ConfigLoader {
  private static final java.util.Comparator<Problem> BY_LINE = java.util.Comparator
      .comparingInt((Problem p) -> p.location().map(l -> l.line()).orElse(Integer.MAX_VALUE))
      .thenComparingInt(p -> p.location().map(l -> l.column()).orElse(0))
      .thenComparing(Problem::path);
  private final CompletableFuture<BlockKindRegistry> kinds;
  private final List<FormatAdapter> adapters;
  private final YamlTreeReader reader;
  private final CompletableFuture<ConfigBinder> binder;
  private final CompletableFuture<BeanValidation> validation;

  public ConfigLoader(BlockKindRegistry kinds, List<FormatAdapter> adapters, ReadLimits limits) {
    this(CompletableFuture.completedFuture(kinds), adapters, limits);
  }

  /**
   * Plugin discovery, the mapper and the validator start on their own threads while the caller reads YAML: on a
   * cold JVM these start-ups cost more than reading a 10,000-layer file.
   */
  private ConfigLoader(CompletableFuture<BlockKindRegistry> kinds, List<FormatAdapter> adapters, ReadLimits limits) {
    this.kinds = kinds;
    this.adapters = List.copyOf(adapters);
    this.reader = new YamlTreeReader(limits);
    this.binder = kinds.thenApplyAsync(ConfigBinder::new, ConfigLoader::startThread);
    this.validation = CompletableFuture.supplyAsync(() -> new BeanValidation(() -> await(kinds)).warmedUp(),
        ConfigLoader::startThread);
  }

  private static void startThread(Runnable runnable) {
    Thread thread = new Thread(runnable, "fastllm-config-start");
    thread.setDaemon(true);
    thread.start();
  }

  private static <T> T await(CompletableFuture<T> future) {
    try {
      return future.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  private static volatile ConfigLoader standard;

  /** The installed kinds and format adapters, default limits; one shared instance (loaders are thread-safe). */
  public static ConfigLoader standard() {
    ConfigLoader loader = standard;
    if (loader == null) {
      synchronized (ConfigLoader.class) {
        if (standard == null) {
          List<FormatAdapter> adapters = new ArrayList<>();
          ServiceLoader.load(FormatAdapter.class, ConfigLoader.class.getClassLoader()).forEach(adapters::add);
          standard = new ConfigLoader(
              CompletableFuture.supplyAsync(BlockKindRegistry::installed, ConfigLoader::startThread),
              adapters, ReadLimits.DEFAULT);
        }
        loader = standard;
      }
    }
    return loader;
  }

  public LoadedConfig load(Path file) {
    return load(reader.read(file));
  }

  public LoadedConfig load(String source, String yaml) {
    return load(reader.read(source, yaml));
  }

  public LoadedConfig load(YamlDocument document) {
    return load(document, ConfigOverrides.none());
  }

  /** Reads a file with command-line settings applied after any format migration, before binding. */
  public LoadedConfig load(Path file, ConfigOverrides overrides) {
    return load(reader.read(file), overrides);
  }

  /**
   * The document with {@code overrides} applied on the (migrated) tree: a bad key or value in an override is
   * reported like one in the file, located at {@code command line:N:1}.
   */
  public LoadedConfig load(YamlDocument document, ConfigOverrides overrides) {
    List<Problem> warnings = new ArrayList<>();
    YamlDocument current = document;
    boolean legacy = false;
    for (FormatAdapter adapter : adapters) {
      Optional<Migration> migration = adapter.adapt(current);
      if (migration.isPresent()) {
        current = migration.get().document();
        migration.get().warnings().stream().map(document.sourceMap()::place).forEach(warnings::add);
        legacy = true;
      }
    }
    try {
      current = overrides.applyTo(current);
      ConfigDocument written = bindReportingEveryRule(current);
      return check(document.source(), written, current.sourceMap(), warnings, legacy);
    } catch (InvalidConfigException e) {
      // the rules' exception already carries the migration warnings; binding's does not
      List<Problem> all = new ArrayList<>(warnings);
      e.problems().stream().filter(p -> !warnings.contains(p)).forEach(all::add);
      throw new InvalidConfigException(all);
    }
  }

  /**
   * The document's records; when its shape is wrong, the shape problems together with the rule problems of the
   * rest of the document (checked on a copy without the bad keys), so that one pass reports both.
   */
  private ConfigDocument bindReportingEveryRule(YamlDocument document) {
    ConfigBinder bound = await(binder);
    try {
      return bound.bind(document);
    } catch (InvalidConfigException shape) {
      List<Problem> rules = bound.repair(document)
          .map(repair -> ProblemsBesideShape.keep(
              await(validation).validate(repair.config().withDefaults()).stream()
                  .map(document.sourceMap()::place).toList(),
              shape.problems(), repair))
          .orElse(List.of());
      if (rules.isEmpty()) {
        throw shape;
      }
      List<Problem> all = new ArrayList<>(shape.problems());
      all.addAll(rules);
      all.sort(BY_LINE);
      throw new InvalidConfigException(all);
    }
  }

  /** Validates, expands and counts a config built in code (no source locations). */
  public LoadedConfig check(ConfigDocument written) {
    return check("<config>", written, SourceMap.empty(), List.of(), false);
  }

  private LoadedConfig check(String source, ConfigDocument written, SourceMap locations, List<Problem> earlier,
      boolean legacy) {
    ConfigDocument resolved = written.withDefaults();
    List<Problem> errors = await(validation).validate(resolved).stream().map(locations::place)
        .sorted(BY_LINE).toList();
    List<Problem> warnings = new ArrayList<>(earlier);
    if (!errors.isEmpty()) {
      warnings.addAll(errors);
      throw new InvalidConfigException(warnings);
    }
    ConfigWarnings.of(resolved.model(), written.model()).stream().map(locations::place).forEach(warnings::add);
    StackPlan plan = BlockPattern.expand(resolved.model());
    ModelCount count;
    try {
      count = ParameterAccounting.count(plan, await(kinds));
    } catch (ArithmeticException overflow) {
      warnings.add(locations.place(Problem.error("model",
          "the parameter count does not fit a 64-bit integer: some sizes are far too large")));
      throw new InvalidConfigException(warnings);
    }
    return new LoadedConfig(source, written, resolved, plan, count, warnings, legacy);
  }

  public BlockKindRegistry kinds() {
    return await(kinds);
  }
}
