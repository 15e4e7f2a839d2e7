package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.junit.jupiter.api.Test;

class GatedConvBlockConfigTest {
  private static final ModelDefaults MODEL =
      new ModelDefaults(256, new NormalizationConfig(NormType.RMS_NORM, 1e-6));

  @Test
  void withDefaults_emptyBlock_takesKindAndModelDefaults() {
    GatedConvBlockConfig resolved = GatedConvBlockConfig.empty().withDefaults(MODEL);

    assertThat(resolved)
        .isEqualTo(new GatedConvBlockConfig(new CommonBlockKeys(false, 256, new NormalizationConfig(NormType.RMS_NORM,
            1e-6), 1024, false, Activation.GELU, 1.0, 0.0, null, true), 4, 2, true));
  }

  @Test
  void withDefaults_resolvedBlock_isUnchanged() {
    GatedConvBlockConfig resolved = GatedConvBlockConfig.empty().withDefaults(MODEL);

    assertThat(resolved.withDefaults(MODEL)).isEqualTo(resolved);
  }

  @Test
  void withDefaults_loraWithoutTargets_adaptsBothProjections() {
    GatedConvBlockConfig written = new GatedConvBlockConfig(new CommonBlockKeys(null, null, null, null, null, null,
        null, null, new LoraConfig(8, null, null, null, null, null), null), null, null, null);

    assertThat(written.withDefaults(MODEL).lora().targets()).isEqualTo(List.of("in_proj", "out_proj"));
  }

  @Test
  void kindOf_configRecord_isGatedConv() {
    assertThat(BlockConfig.kindOf(GatedConvBlockConfig.class)).isEqualTo("gated_conv");
  }
}
