package org.fastllm.modules.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.RotaryConfig;
import org.fastllm.dsl.config.RotaryType;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowReference;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/** {@code qkv_biases}: Qwen2's biases on the query and key/value projections, with none on dense. */
class QueryKeyValueBiasesTest {

  private static TransformerBlockConfig qwen2Like(Boolean qkvBiases) {
    int hidden = 8;
    return new TransformerBlockConfig(new CommonBlockKeys(null, hidden, null, 0, null, null, null, null, null,
        false), null, 4, 2, 2, false, null, true, new RotaryConfig(RotaryType.DEFAULT, 100.0), true, qkvBiases)
        .withDefaults(new ModelDefaults(hidden, NormalizationConfig.DEFAULT));
  }

  @Test
  void parameters_qkvBiasesWithoutLinearBiases_biasOnQueryAndKeyValueOnly() {
    Map<String, Tensor> params = Torch.parameters(Attention.of(qwen2Like(true), LayerContext.defaults()));

    assertThat(params).containsKeys("query.bias", "key_value.bias").doesNotContainKey("dense.bias");
    assertThat(Torch.shape(params.get("query.bias"))).containsExactly(8L);
    assertThat(Torch.shape(params.get("key_value.bias"))).containsExactly(8L);
  }

  @Test
  void parameters_qkvBiasesAbsent_followsAddLinearBiases() {
    Map<String, Tensor> params = Torch.parameters(Attention.of(qwen2Like(null), LayerContext.defaults()));

    assertThat(params.keySet()).noneMatch(name -> name.endsWith("bias"));
  }

  @Test
  void forward_nonZeroKeyValueBias_changesOutputAndMatchesSlowReference() {
    TransformerBlockConfig config = qwen2Like(true);
    Attention attention = Attention.of(config, LayerContext.defaults());
    Map<String, Tensor> params = Torch.parameters(attention);
    Tensor x = Torch.randn(torch.ScalarType.Float, 1, 5, 8);
    Tensor before;
    try (NoGradGuard guard = new NoGradGuard()) {
      before = attention.forward(x).clone();
      // Only the value half moves the output: a key bias adds the same score to every key of a query.
      params.get("key_value.bias").copy_(Torch.randn(torch.ScalarType.Float, 8));
      params.get("query.bias").copy_(Torch.randn(torch.ScalarType.Float, 8));
      assertThat(Torch.relativeError(attention.forward(x), before)).isGreaterThan(1e-3);
    }
    LayerCheck.against(attention, (in, p) -> SlowReference.attention(in, p, config))
        .run(torch.ScalarType.Double, 1e-6, "qkv biases", 2, 5, 8);
  }
}
