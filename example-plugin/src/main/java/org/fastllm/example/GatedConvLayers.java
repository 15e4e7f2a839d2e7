package org.fastllm.example;

import org.fastllm.modules.plugin.LayerPlugin;

/**
 * Adds the gated_conv mixer to the model builder, the tensor-side twin of {@link GatedConvPlugin}; found through
 * {@code META-INF/services/org.fastllm.modules.plugin.LayerPlugin}. The mixer runs tensor operations only, so it
 * needs nothing of the model's {@code LayerContext} (a mixer with hand-written kernels would attach their backward
 * to {@code context.tape()}).
 *
 * <pre>{@code
 * // given GatedConvBlockConfig resolvedBlock, LayerContext context
 * LayerFactories.installed().factory("gated_conv").mixer(resolvedBlock, context)
 * }</pre>
 */
public final class GatedConvLayers extends LayerPlugin {
  @Override
  protected void configure() {
    addFactory("gated_conv", (block, context) -> new GatedConvMixer((GatedConvBlockConfig) block));
  }
}
