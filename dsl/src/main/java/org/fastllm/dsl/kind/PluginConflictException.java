package org.fastllm.dsl.kind;

/**
 * Start-up failure: two plugins claim the same block kind, or a plugin cannot be loaded.
 *
 * <p>The message names the kind and both plugins, e.g.
 * {@code block kind 'gated_conv' is claimed by two plugins: org.a.APlugin (a.jar) and org.b.BPlugin (b.jar)}.
 */
public final class PluginConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public PluginConflictException(String message) {
    super(message);
  }
}
