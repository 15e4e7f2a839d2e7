package org.fastllm.dsl.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class CommonBlockKeysTest {
  static final NormalizationConfig RMS = new NormalizationConfig(NormType.RMS_NORM, 1e-6);
  static final ModelDefaults MODEL = new ModelDefaults(256, RMS);
  static final CommonBlockKeys.KindDefaults KIND = new CommonBlockKeys.KindDefaults(false, List.of("in_proj"));

  @Test
  void withDefaults_noKeyGiven_takesTheModelsAndTheKindsDefaults() {
    assertThat(CommonBlockKeys.NONE.withDefaults(MODEL, KIND)).isEqualTo(
        new CommonBlockKeys(false, 256, RMS, 1024, false, Activation.GELU, 1.0, 0.0, null, false));
  }

  @Test
  void withDefaults_gatedWithLora_siluAndTheKindsTargets() {
    CommonBlockKeys written = new CommonBlockKeys(null, null, new NormalizationConfig(null, 1e-3), null, true, null,
        null, null, new LoraConfig(4, null, null, null, null, null), true);

    CommonBlockKeys resolved = written.withDefaults(MODEL, KIND);

    assertThat(resolved.activation()).isEqualTo(Activation.SILU);
    assertThat(resolved.normalization()).isEqualTo(new NormalizationConfig(NormType.RMS_NORM, 1e-3));
    assertThat(resolved.lora().targets()).containsExactly("in_proj");
    assertThat(resolved.addLinearBiases()).isTrue();
  }

  @Test
  void withDefaults_widthWhoseMlpOverflowsAnInt_leavesFfnAbsentForValidation() {
    CommonBlockKeys wide = new CommonBlockKeys(null, 1 << 30, null, null, null, null, null, null, null, null);

    assertThat(wide.withDefaults(MODEL, KIND).ffnHiddenSize()).isNull();
  }

  @Test
  void withDefaults_resolvedKeys_areUnchanged() {
    CommonBlockKeys resolved = CommonBlockKeys.NONE.withDefaults(MODEL, KIND);

    assertThat(resolved.withDefaults(new ModelDefaults(64, NormalizationConfig.DEFAULT), KIND)).isEqualTo(resolved);
  }
}
