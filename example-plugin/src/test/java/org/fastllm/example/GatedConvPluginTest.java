package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The plugin seen from outside: on the classpath it is installed, and configs using its kind load and count. */
class GatedConvPluginTest {

  @Nested
  class Installed {

    @Test
    void installed_pluginJarOnClasspath_addsGatedConvToTheCoreKinds() {
      assertThat(BlockKindRegistry.installed().names()).isEqualTo(List.of("gated_conv", "ssm", "transformer"));
    }

    @Test
    void ownerOf_gatedConv_namesThisPlugin() {
      assertThat(BlockKindRegistry.installed().ownerOf("gated_conv"))
          .isEqualTo("org.fastllm.example.GatedConvPlugin (classes)");
    }

    @Test
    void kind_gatedConv_bindsTheConfigRecord() {
      assertThat(BlockKindRegistry.installed().kind("gated_conv").configClass()).isEqualTo(GatedConvBlockConfig.class);
    }
  }

  @Nested
  class Loading {

    @Test
    void load_defaults_countsEveryTensorOnce() {
      LoadedConfig config = ConfigLoader.standard().load("conv.yaml", """
          model:
            hidden_size: 64
            vocab_size: 1000
            blocks:
              x: {kind: gated_conv}
            block_pattern: [x]
            num_layers: 2
          """);

      // H = 64, E = 2 x 64 = 128, kernel 4, layer_norm, linear biases, MLP 4 x 64 = 256.
      long norm = 64 + 64;
      long inProj = 256 * 64 + 256;
      long conv = 128 * 4 + 128;
      long outProj = 64 * 128 + 64;
      long mlp = (256 * 64 + 256) + (64 * 256 + 64);
      long block = norm + inProj + conv + outProj + norm + mlp;
      ModelCount count = config.count();
      assertThat(block).isEqualTo(58_880);
      assertThat(count.blocks().get(0).perUse()).isEqualTo(block);
      assertThat(count.layers().get(1).kind()).isEqualTo("gated_conv");
      assertThat(count.total()).isEqualTo(1000 * 64 + 2 * block + norm + 1000 * 64);
    }

    @Test
    void load_sharedRmsNormNoMlpNoBiases_countsTheSharedBlockOnce() {
      LoadedConfig config = ConfigLoader.standard().load("conv.yaml", """
          model:
            hidden_size: 32
            vocab_size: 100
            tied_embedding_weight: true
            blocks:
              y: {kind: gated_conv, kernel_size: 7, expansion: 3, causal: false, add_linear_biases: false,
                  normalization: {type: rms_norm}, ffn_hidden_size: 0, shared_weights: true}
            block_pattern: [y]
            num_layers: 3
          """);

      // H = 32, E = 3 x 32 = 96, kernel 7, rms_norm (weight only), no linear biases, no MLP; the conv keeps its bias.
      long block = 32 + (192 * 32) + (96 * 7 + 96) + (32 * 96);
      ModelCount count = config.count();
      assertThat(block).isEqualTo(10_016);
      assertThat(count.effectiveBlocks()).isEqualTo(3 * block);
      assertThat(count.total()).isEqualTo(100 * 32 + block + (32 + 32));
      assertThat(config.warnings()).isEqualTo(List.of());
    }

    @Test
    void load_loraOnGatedConv_adaptsItsProjections() {
      LoadedConfig config = ConfigLoader.standard().load("conv.yaml", """
          model:
            hidden_size: 64
            blocks:
              x: {kind: gated_conv, lora: {rank: 4}}
            block_pattern: [x]
            num_layers: 1
          """);

      // The kind's default targets: in_proj [256, 64] and out_proj [64, 128]; rank x (out + in) each.
      assertThat(config.count().lora()).isEqualTo(4 * (256 + 64) + 4 * (64 + 128));
    }
  }
}
