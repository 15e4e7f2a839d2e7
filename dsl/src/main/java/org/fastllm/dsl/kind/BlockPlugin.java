package org.fastllm.dsl.kind;

import com.google.inject.AbstractModule;
import com.google.inject.TypeLiteral;
import com.google.inject.multibindings.MapBinder;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.layout.ParameterLayout;

/**
 * The plugin SPI: a Guice module that adds block kinds, found by {@link java.util.ServiceLoader} through
 * {@code META-INF/services/org.fastllm.dsl.kind.BlockPlugin}.
 *
 * <pre>{@code
 * public final class MyPlugin extends BlockPlugin {
 *   @Override protected void configure() {
 *     addKind(GatedConvBlockConfig.class, new GatedConvLayout());
 *   }
 * }
 * }</pre>
 *
 * <p><b>Each kind may be claimed by one plugin only;</b> a second claim stops start-up naming both plugins.
 */
public abstract class BlockPlugin extends AbstractModule {

  /** Binds the config class (annotated {@code @Block(kind = ...)}) under its kind. */
  protected final <C extends BlockConfig> void addKind(Class<C> configClass, ParameterLayout<C> layout) {
    kinds(binder()).addBinding(BlockConfig.kindOf(configClass)).toInstance(BlockKind.of(configClass, layout));
  }

  /** The map every plugin adds its kinds to. */
  public static MapBinder<String, BlockKind<?>> kinds(com.google.inject.Binder binder) {
    return MapBinder.newMapBinder(binder, new TypeLiteral<String>() {}, new TypeLiteral<BlockKind<?>>() {});
  }

  /**
   * A name for messages: the plugin's class and the jar (or classes folder) it came from, e.g.
   * {@code org.example.ConvPlugin (conv-plugin-1.0.jar)}.
   */
  public String describe() {
    var source = getClass().getProtectionDomain().getCodeSource();
    String where = source == null ? "" : lastSegment(source.getLocation().getPath());
    return getClass().getName() + (where.isEmpty() ? "" : " (" + where + ")");
  }

  /** The file or folder name at the end of a path; a folder's path ends in '/', which must not leave it empty. */
  private static String lastSegment(String path) {
    String trimmed = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }
}
