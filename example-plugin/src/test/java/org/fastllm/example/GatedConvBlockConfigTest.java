package org.fastllm.example;

import static org.junit.jupiter.api.Assertions.assertEquals;

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

    assertEquals(new GatedConvBlockConfig(new CommonBlockKeys(false, 256, new NormalizationConfig(NormType.RMS_NORM,
        1e-6), 1024, false, Activation.GELU, 1.0, 0.0, null, true), 4, 2, true), resolved);
  }

  @Test
  void withDefaults_resolvedBlock_isUnchanged() {
    GatedConvBlockConfig resolved = GatedConvBlockConfig.empty().withDefaults(MODEL);

    assertEquals(resolved, resolved.withDefaults(MODEL));
  }

  @Test
  void withDefaults_loraWithoutTargets_adaptsBothProjections() {
    GatedConvBlockConfig written = new GatedConvBlockConfig(new CommonBlockKeys(null, null, null, null, null, null,
        null, null, new LoraConfig(8, null, null, null, null, null), null), null, null, null);

    assertEquals(List.of("in_proj", "out_proj"), written.withDefaults(MODEL).lora().targets());
  }

  @Test
  void kindOf_configRecord_isGatedConv() {
    assertEquals("gated_conv", BlockConfig.kindOf(GatedConvBlockConfig.class));
  }
}
