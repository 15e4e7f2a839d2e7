package org.fastllm.validation.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.junit.jupiter.api.Test;

/** Block kinds as the loader sees them when only core is installed (no plugin jar on this module's classpath). */
class ConfigLoaderKindsTest {

  @Test
  void load_pluginKindWithoutPluginJar_listsTheInstalledKinds() {
    InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> ConfigLoader.standard().load(
        "conv.yaml", """
            model:
              hidden_size: 64
              blocks:
                x: {kind: gated_conv, kernel_size: 4}
              block_pattern: [x]
              num_layers: 1
            """));
    assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();

    assertThat(e.problems().stream().map(Problem::render).toList())
        .isEqualTo(List.of("conv.yaml:4:9: model.blocks.x.kind: unknown kind 'gated_conv'"
            + " (installed kinds: ssm, transformer)"));
  }

  @Test
  void load_misspelledCoreKind_suggestsIt() {
    InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> ConfigLoader.standard().load(
        "t.yaml", """
            model:
              blocks:
                x: {kind: transfomer}
              block_pattern: [x]
              num_layers: 1
            """));
    assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();

    assertThat(e.problems().stream().map(Problem::render).toList())
        .isEqualTo(List.of("t.yaml:3:9: model.blocks.x.kind: unknown kind 'transfomer' (did you mean 'transformer'?)"
            + " (installed kinds: ssm, transformer)"));
  }
}
