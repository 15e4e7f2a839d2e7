package org.fastllm.example;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.count.ModelTensors;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.plugin.LayerFactories;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The plugin's kind builds and trains like a shipped kind, with no change to core code. */
class GatedConvTrainingTest {
  static final String CONFIG = """
      model:
        hidden_size: 32
        vocab_size: 64
        blocks:
          conv: {kind: gated_conv, kernel_size: 3, ffn_hidden_size: 64}
          att: {kind: transformer, num_heads: 4, shared_weights: true, ffn_hidden_size: 64}
        block_pattern: [conv, att]
        num_layers: 4
      """;

  @BeforeAll
  static void oneThread() {
    torch.set_num_threads(1);
    torch.manual_seed(3);
  }

  static LoadedConfig config(String yaml) {
    return ConfigLoader.standard().load("plugin.yaml", yaml);
  }

  @Test
  void layerFactories_withPluginJar_includeGatedConv() {
    assertThat(LayerFactories.installed().kinds()).contains("gated_conv", "ssm", "transformer");
  }

  @Test
  void build_gatedConvModel_holdsExactlyTheConfigOnlyTensors() {
    LoadedConfig config = config(CONFIG);
    LanguageModel model = StackBuilder.installed().build(config.model().withDefaults());

    Map<String, List<Long>> built = new LinkedHashMap<>();
    for (NamedParameter p : model.uniqueParameters()) {
      built.put(p.name(), shape(p.tensor()));
    }
    Map<String, List<Long>> expected = new LinkedHashMap<>();
    for (TensorSpec t : ModelTensors.of(config.model(), ConfigLoader.standard().kinds())) {
      expected.put(t.name(), t.shape());
    }
    assertThat(built).containsExactlyInAnyOrderEntriesOf(expected);
    assertThat(model.parameterCount()).isEqualTo(config.count().total());
  }

  @Test
  void forward_causalGatedConv_futureTokensChangeNothingBefore() {
    LanguageModel model = StackBuilder.installed().build(config(CONFIG).model().withDefaults());
    try (PointerScope scope = new PointerScope()) {
      Tensor tokens = torch.randint(64, new long[] {1, 12}, new TensorOptions(torch.ScalarType.Long));
      Tensor changed = tokens.clone();
      changed.narrow(1, 8, 4).fill_(new org.bytedeco.pytorch.Scalar(5));
      Tensor before = model.logits(tokens).narrow(1, 0, 8);
      Tensor after = model.logits(changed).narrow(1, 0, 8);
      assertThat(before.sub(after).abs().max().item_double()).isZero();
    }
  }

  @Test
  void adamW_gatedConvModel_lossFalls() {
    LanguageModel model = StackBuilder.installed().build(config(CONFIG).model().withDefaults());
    AdamW optimizer = new AdamW(model.trainableTensors(), new AdamWOptions(3e-3));
    Tensor tokens = torch.randint(64, new long[] {4, 17}, new TensorOptions(torch.ScalarType.Long));
    double first = Double.NaN;
    double last = Double.NaN;
    for (int step = 0; step < 12; step++) {
      try (PointerScope scope = new PointerScope()) {
        optimizer.zero_grad();
        Tensor loss = model.loss(tokens.narrow(1, 0, 16), tokens.narrow(1, 1, 16));
        loss.backward();
        optimizer.step();
        last = loss.item_double();
        first = step == 0 ? last : first;
      }
    }
    assertThat(last).isFinite().isLessThan(first - 0.2);
  }

  private static List<Long> shape(Tensor t) {
    Long[] s = new Long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) {
      s[i] = t.size(i);
    }
    return List.of(s);
  }
}
