package org.fastllm.modules.plugin;

import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.attention.Attention;
import org.fastllm.modules.ssm.DiscreteMamba2Mixer;
import org.fastllm.modules.ssm.Mamba1Mixer;
import org.fastllm.modules.ssm.Mamba2Mixer;
import org.fastllm.modules.ssm.StandardMamba2Mixer;

/**
 * The factories of the shipped kinds: {@code transformer} (attention) and {@code ssm} (four variants).
 *
 * <pre>{@code LayerFactories.fromPlugins(List.of(new CoreLayersPlugin())).factory("ssm")}</pre>
 */
public final class CoreLayersPlugin extends LayerPlugin {
  @Override
  protected void configure() {
    addFactory("transformer", (block, context) -> Attention.of((TransformerBlockConfig) block, context));
    addFactory("ssm", (block, context) -> {
      SsmBlockConfig ssm = (SsmBlockConfig) block;
      return switch (ssm.variant()) {
        case MAMBA1 -> Mamba1Mixer.of(ssm, context);
        case MAMBA2 -> Mamba2Mixer.of(ssm, context);
        case DISCRETE_MAMBA2 -> DiscreteMamba2Mixer.of(ssm);
        case MAMBA2_STANDARD -> StandardMamba2Mixer.of(ssm);
      };
    });
  }
}
