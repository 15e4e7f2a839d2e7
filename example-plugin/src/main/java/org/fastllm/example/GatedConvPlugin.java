package org.fastllm.example;

import org.fastllm.dsl.kind.BlockPlugin;

/**
 * Adds the {@code gated_conv} block kind; found by {@link java.util.ServiceLoader} when this jar is on the
 * classpath, through {@code META-INF/services/org.fastllm.dsl.kind.BlockPlugin}.
 *
 * <pre>{@code
 * BlockKindRegistry.installed().names();  // [gated_conv, ssm, transformer] with this jar on the classpath
 * }</pre>
 *
 * <p>A config may then use {@code {kind: gated_conv, kernel_size: 4}}; no core code changes.
 */
public final class GatedConvPlugin extends BlockPlugin {
  @Override
  protected void configure() {
    addKind(GatedConvBlockConfig.class, new GatedConvLayout());
  }
}
