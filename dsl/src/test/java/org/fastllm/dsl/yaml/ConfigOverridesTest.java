package org.fastllm.dsl.yaml;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigOverridesTest {
  @Test
  void sets_aKeyGivenOnTheCommandLine_isTrueForThatKeyOnly() {
    ConfigOverrides overrides = ConfigOverrides.parse(List.of("training.output_dir=runs/a", "training.steps=5"));

    assertThat(overrides.sets("training.output_dir")).isTrue();
    assertThat(overrides.sets("training")).isFalse();
    assertThat(overrides.sets("training.output")).isFalse();
    assertThat(ConfigOverrides.none().sets("training.output_dir")).isFalse();
  }
}
