package org.fastllm.modules.plugin;

import com.google.inject.AbstractModule;
import com.google.inject.Binder;
import com.google.inject.multibindings.MapBinder;

/**
 * The SPI that adds layer factories: a Guice module found by {@link java.util.ServiceLoader} through
 * {@code META-INF/services/org.fastllm.modules.plugin.LayerPlugin}, binding factories by block kind.
 *
 * <pre>{@code
 * public final class GatedConvLayers extends LayerPlugin {
 *   @Override protected void configure() {
 *     addFactory("gated_conv", (block, context) -> new GatedConvMixer((GatedConvBlockConfig) block));
 *   }
 * }
 * }</pre>
 */
public abstract class LayerPlugin extends AbstractModule {

  protected final void addFactory(String kind, LayerFactory factory) {
    factories(binder()).addBinding(kind).toInstance(factory);
  }

  /** The map every layer plugin adds to. */
  public static MapBinder<String, LayerFactory> factories(Binder binder) {
    return MapBinder.newMapBinder(binder, String.class, LayerFactory.class);
  }
}
