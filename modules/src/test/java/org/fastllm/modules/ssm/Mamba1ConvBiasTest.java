package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.DtRank;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.LayerCheck;
import org.fastllm.modules.testing.SlowReference;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/** Mamba 1 with {@code conv_bias: true} (transformers' MambaConfig default): the bias is a parameter that counts. */
class Mamba1ConvBiasTest {
  static final int HIDDEN = 8;

  static SsmBlockConfig config(Boolean convBias) {
    return new SsmBlockConfig(new CommonBlockKeys(null, HIDDEN, null, 0, null, null, null, null, null, null),
        SsmVariant.MAMBA1, 2, null, 8, new DtRank(3), 3, null, null, null, null, null, null, null, convBias)
        .withDefaults(new ModelDefaults(HIDDEN, NormalizationConfig.DEFAULT));
  }

  @Test
  void forward_withConvBias_valuesAndGradientsMatchStepByStepRecurrence() {
    SsmBlockConfig c = config(true);
    Mamba1Mixer mixer = Mamba1Mixer.of(c, SelectiveScan.of(4, LayerContext.defaults()));
    Tensor bias = Torch.parameters(mixer).get("conv1d.bias");
    try (NoGradGuard noGrad = new NoGradGuard()) {
      bias.copy_(torch.randn(bias.size(0)));  // zero at init: random values let the check see the bias in the output
    }
    LayerCheck.against(mixer, (x, p) -> SlowReference.mamba1(x, p, c))
        .run(torch.ScalarType.Double, 1e-6, "mamba1 conv_bias", 2, 9, HIDDEN);
  }

  @Test
  void parameters_convBiasAbsentOrFalse_noBias() {
    assertThat(config(null).convBias()).isFalse();
    assertThat(Torch.parameters(Mamba1Mixer.of(config(null), SelectiveScan.of(4, LayerContext.defaults()))))
        .doesNotContainKey("conv1d.bias");
  }
}
