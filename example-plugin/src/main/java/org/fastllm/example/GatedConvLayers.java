package org.fastllm.example;

import org.fastllm.modules.plugin.LayerPlugin;

/**
 * Adds the gated_conv mixer to the model builder, the tensor-side twin of {@link GatedConvPlugin}; found through
 * {@code META-INF/services/org.fastllm.modules.plugin.LayerPlugin}.
 */
public final class GatedConvLayers extends LayerPlugin {
  @Override
  protected void configure() {
    addFactory("gated_conv", block -> new GatedConvMixer((GatedConvBlockConfig) block));
  }
}
