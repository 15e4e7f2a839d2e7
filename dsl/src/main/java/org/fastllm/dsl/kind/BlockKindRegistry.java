package org.fastllm.dsl.kind;

import com.google.inject.CreationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.google.inject.TypeLiteral;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Every block kind installed: the core kinds and those of the plugins on the classpath.
 *
 * <pre>{@code
 * BlockKindRegistry kinds = BlockKindRegistry.installed();
 * kinds.find("ssm").map(BlockKind::configClass);  // Optional[SsmBlockConfig.class]
 * }</pre>
 *
 * <p><b>What Jackson accepts as {@code kind} and what Guice knows are this one map.</b>
 */
public final class BlockKindRegistry {
  private static final TypeLiteral<Map<String, BlockKind<?>>> MAP_TYPE = new TypeLiteral<>() {};
  private static volatile BlockKindRegistry installed;

  private final Map<String, BlockKind<?>> kinds;
  private final List<BlockPlugin> plugins;
  private volatile Map<String, String> owners;

  private BlockKindRegistry(Map<String, BlockKind<?>> kinds, List<BlockPlugin> plugins) {
    this.kinds = Collections.unmodifiableMap(new TreeMap<>(kinds));
    this.plugins = plugins;
  }

  /** The kinds of every plugin found by {@link ServiceLoader} in this class loader; loaded once. */
  public static BlockKindRegistry installed() {
    BlockKindRegistry r = installed;
    if (r == null) {
      synchronized (BlockKindRegistry.class) {
        if (installed == null) {
          installed = fromPlugins(load(BlockKindRegistry.class.getClassLoader()));
        }
        r = installed;
      }
    }
    return r;
  }

  /** The kinds of the given plugins; two plugins claiming one kind is a {@link PluginConflictException}. */
  public static BlockKindRegistry fromPlugins(List<? extends BlockPlugin> plugins) {
    try {
      Injector injector = Guice.createInjector(Stage.DEVELOPMENT, plugins);
      return new BlockKindRegistry(injector.getInstance(Key.get(MAP_TYPE)), List.copyOf(plugins));
    } catch (CreationException e) {
      // Only when the plugins cannot be combined are they inspected one by one, to name the two that clash.
      ownersOf(plugins);
      throw e;
    }
  }

  /** Which plugin adds each kind; a kind claimed twice is a {@link PluginConflictException} naming both. */
  private static Map<String, String> ownersOf(List<? extends BlockPlugin> plugins) {
    Map<String, String> owners = new HashMap<>();
    for (BlockPlugin plugin : plugins) {
      for (String kind : kindsOf(plugin).keySet()) {
        String first = owners.putIfAbsent(kind, plugin.describe());
        if (first != null) {
          throw new PluginConflictException("block kind '" + kind + "' is claimed by two plugins: " + first
              + " and " + plugin.describe() + "; remove one of them from the classpath");
        }
      }
    }
    return owners;
  }

  /** The plugins registered with {@link ServiceLoader} in {@code loader}. */
  public static List<BlockPlugin> load(ClassLoader loader) {
    List<BlockPlugin> plugins = new ArrayList<>();
    try {
      ServiceLoader.load(BlockPlugin.class, loader).forEach(plugins::add);
    } catch (ServiceConfigurationError e) {
      throw new PluginConflictException("a block plugin could not be loaded: " + e.getMessage());
    }
    return plugins;
  }

  private static Map<String, BlockKind<?>> kindsOf(BlockPlugin plugin) {
    return Guice.createInjector(Stage.DEVELOPMENT, plugin).getInstance(Key.get(MAP_TYPE));
  }

  public Optional<BlockKind<?>> find(String kind) {
    return Optional.ofNullable(kinds.get(kind));
  }

  /** The kind, which must be installed. */
  public BlockKind<?> kind(String kind) {
    return find(kind).orElseThrow(() -> new IllegalArgumentException("no block kind '" + kind + "' installed"));
  }

  /** Installed kind names, sorted. */
  public List<String> names() {
    return List.copyOf(kinds.keySet());
  }

  public Map<String, BlockKind<?>> all() {
    return kinds;
  }

  /** Which plugin added the kind, for messages and {@code describe}. */
  public String ownerOf(String kind) {
    Map<String, String> known = owners;
    if (known == null) {
      known = Map.copyOf(ownersOf(plugins));
      owners = known;
    }
    return known.getOrDefault(kind, "?");
  }
}
