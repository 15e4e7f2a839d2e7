package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatNoException;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The plugin's own constraints, run by the core loader: field rules and the class-level {@link ValidGatedConv}. */
class GatedConvValidatorTest {
  private static final ConfigLoader LOADER = ConfigLoader.standard();

  private static List<String> problems(String block) {
    String yaml = """
        model:
          hidden_size: 64
          blocks:
            x: %s
          block_pattern: [x]
          num_layers: 1
        """.formatted(block);
    InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> LOADER.load("conv.yaml", yaml));
    assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();
    return e.problems().stream().map(Problem::render).toList();
  }

  @Test
  void load_kernelSizeZero_isAtLeastOne() {
    assertThat(problems("{kind: gated_conv, kernel_size: 0}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.kernel_size: must be at least 1, got 0"));
  }

  @Test
  void load_kernelSizeZeroNotCausal_reportsOnlyTheLowerBound() {
    assertThat(problems("{kind: gated_conv, kernel_size: 0, causal: false}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.kernel_size: must be at least 1, got 0"));
  }

  @Test
  void load_kernelSizeAboveMax_isAtMost1024() {
    assertThat(problems("{kind: gated_conv, kernel_size: 2048}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.kernel_size: must be at most 1024, got 2048"));
  }

  @Test
  void load_expansionZero_isAtLeastOne() {
    assertThat(problems("{kind: gated_conv, expansion: 0}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.expansion: must be at least 1, got 0"));
  }

  @Test
  void load_evenKernelNotCausal_mustBeOdd() {
    assertThat(problems("{kind: gated_conv, kernel_size: 4, causal: false}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.kernel_size: must be odd when causal is false (a centered"
            + " kernel takes as many taps from each side), got 4"));
  }

  @Test
  void load_defaultKernelNotCausal_pointsAtTheBlock() {
    assertThat(problems("{kind: gated_conv, causal: false}"))
        .isEqualTo(List.of("conv.yaml:4:5: model.blocks.x.kernel_size: must be odd when causal is false (a centered"
            + " kernel takes as many taps from each side), got 4"));
  }

  /** Regression: a plugin record that left out a common key's bound accepted {@code lr_scale: -1}. */
  @Test
  void load_negativeLrScale_isRejectedAsOnACoreKind() {
    assertThat(problems("{kind: gated_conv, lr_scale: -1}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.lr_scale: must be at least 0 (0 freezes the block), got -1.0"));
    assertThat(problems("{kind: transformer, lr_scale: -1}"))
        .isEqualTo(List.of("conv.yaml:4:28: model.blocks.x.lr_scale: must be at least 0 (0 freezes the block), got -1.0"));
  }

  @Test
  void load_unknownKey_suggestsThePluginsKey() {
    assertThat(problems("{kind: gated_conv, kernel_sise: 3}"))
        .isEqualTo(List.of("conv.yaml:4:27: model.blocks.x.kernel_sise: unknown key 'kernel_sise'"
            + " (did you mean 'kernel_size'?)"));
  }

  @Test
  void load_loraTargetTheKindLacks_listsItsLinears() {
    assertThat(problems("{kind: gated_conv, lora: {rank: 2, targets: [query]}}"))
        .isEqualTo(List.of("conv.yaml:4:53: model.blocks.x.lora.targets[0]: 'query' is not a linear layer of this"
            + " gated_conv block (it has: in_proj, out_proj, layer_1, layer_2)"));
  }

  @ParameterizedTest(name = "kernel_size {0}, causal {1}")
  @CsvSource(textBlock = """
      4,    true
      1,    false
      3,    false
      1023, false
      1024, true
      """)
  void load_validKernel_loads(int kernelSize, boolean causal) {
    String yaml = """
        model:
          hidden_size: 64
          blocks:
            x: {kind: gated_conv, kernel_size: %d, causal: %b}
          block_pattern: [x]
          num_layers: 1
        """.formatted(kernelSize, causal);
    assertThatNoException().isThrownBy(() -> LOADER.load("conv.yaml", yaml));
  }
}
