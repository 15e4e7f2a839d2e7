package org.fastllm.modules.plugin;

import com.google.inject.Guice;
import com.google.inject.Key;
import com.google.inject.Stage;
import com.google.inject.TypeLiteral;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The layer factories of every {@link LayerPlugin} on the classpath, by block kind.
 *
 * <pre>{@code
 * // given SsmBlockConfig resolvedSsmBlock, LayerContext context
 * LayerFactories.installed().factory("ssm").mixer(resolvedSsmBlock, context)
 * }</pre>
 */
public final class LayerFactories {
  private static final TypeLiteral<Map<String, LayerFactory>> MAP_TYPE = new TypeLiteral<>() {};
  private static volatile LayerFactories installed;

  private final Map<String, LayerFactory> factories;

  private LayerFactories(Map<String, LayerFactory> factories) {
    this.factories = Map.copyOf(factories);
  }

  /** The factories of the plugins found by {@link ServiceLoader}; loaded once. */
  public static LayerFactories installed() {
    LayerFactories f = installed;
    if (f == null) {
      synchronized (LayerFactories.class) {
        if (installed == null) {
          List<LayerPlugin> plugins = new ArrayList<>();
          ServiceLoader.load(LayerPlugin.class, LayerFactories.class.getClassLoader()).forEach(plugins::add);
          installed = fromPlugins(plugins);
        }
        f = installed;
      }
    }
    return f;
  }

  /** The factories of the given plugins; a kind bound twice fails in Guice, naming both bindings. */
  public static LayerFactories fromPlugins(List<? extends LayerPlugin> plugins) {
    return new LayerFactories(Guice.createInjector(Stage.PRODUCTION, plugins).getInstance(Key.get(MAP_TYPE)));
  }

  /** The factory for a kind, which must be installed. */
  public LayerFactory factory(String kind) {
    LayerFactory factory = factories.get(kind);
    if (factory == null) {
      throw new IllegalArgumentException("no layer factory for block kind '" + kind + "'; installed: "
          + new TreeMap<>(factories).keySet() + " (a plugin adds one through LayerPlugin)");
    }
    return factory;
  }

  public List<String> kinds() {
    return List.copyOf(new TreeMap<>(factories).keySet());
  }
}
