package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.layout.TensorSpec;
import org.junit.jupiter.api.Test;

class GatedConvLayoutTest {
  private static final ModelDefaults MODEL = new ModelDefaults(8, NormalizationConfig.DEFAULT);

  private static List<String> shapes(GatedConvBlockConfig written) {
    return new GatedConvLayout().tensors(written.withDefaults(MODEL)).stream()
        .map(t -> t.name() + " " + t.shape())
        .toList();
  }

  @Test
  void tensors_defaults_mixerBetweenNormsAndMlp() {
    assertThat(shapes(GatedConvBlockConfig.empty())).isEqualTo(List.of(
            "norm_1.weight [8]", "norm_1.bias [8]",
            "mixer.in_proj.weight [32, 8]", "mixer.in_proj.bias [32]",
            "mixer.conv.weight [16, 1, 4]", "mixer.conv.bias [16]",
            "mixer.out_proj.weight [8, 16]", "mixer.out_proj.bias [8]",
            "norm_2.weight [8]", "norm_2.bias [8]",
            "mlp.layer_1.weight [32, 8]", "mlp.layer_1.bias [32]",
            "mlp.layer_2.weight [8, 32]", "mlp.layer_2.bias [8]"));
  }

  @Test
  void tensors_noLinearBiases_keepsTheConvBias() {
    GatedConvBlockConfig written = new GatedConvBlockConfig(new CommonBlockKeys(null, null, null, 0, null, null, null,
        null, null, false), 5, 1, null);
    assertThat(shapes(written)).isEqualTo(List.of(
            "norm_1.weight [8]", "norm_1.bias [8]",
            "mixer.in_proj.weight [16, 8]",
            "mixer.conv.weight [8, 1, 5]", "mixer.conv.bias [8]",
            "mixer.out_proj.weight [8, 8]"));
  }

  @Test
  void tensors_projections_areLoraTargetsAndTheConvIsNot() {
    List<String> linears = new GatedConvLayout().tensors(GatedConvBlockConfig.empty().withDefaults(MODEL)).stream()
        .filter(TensorSpec::isLinearWeight)
        .map(TensorSpec::linear)
        .toList();
    assertThat(linears).isEqualTo(List.of("in_proj", "out_proj", "layer_1", "layer_2"));
  }
}
