package org.fastllm.modules.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

class LoraTest {

  static ResolvedModel model(LoraConfig lora, boolean shared) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("bob", new TransformerBlockConfig(new CommonBlockKeys(shared, null, null, 32, null, null, null, null,
        lora, null), null, 4, 2, null, null, null, true, null, null, null));
    return new ModelConfig(16, 32, false, null, blocks, List.of("bob"), 3, 64, false).withDefaults();
  }

  @Test
  void logits_freshAdapters_equalBaseModel() {
    LoraConfig lora = new LoraConfig(4, 8.0, null, List.of("query", "key_value", "dense", "layer_1"), null, null);
    Torch.seed(3);
    LanguageModel adapted = StackBuilder.installed().build(model(lora, false));
    Torch.seed(3);
    LanguageModel base = StackBuilder.installed().build(model(null, false));
    Map<String, Tensor> adaptedParams = Torch.parameters(adapted);
    try (NoGradGuard guard = new NoGradGuard()) {
      Torch.parameters(base).forEach((name, p) -> p.copy_(adaptedParams.get(name)));
      Tensor tokens = torch.randint(32, new long[] {2, 9}, new TensorOptions(torch.ScalarType.Long));
      assertThat(Torch.relativeError(adapted.logits(tokens), base.logits(tokens))).isCloseTo(0.0, within(0.0));
    }
    assertThat(adaptedParams.containsKey("layers.0.lora.query.a")).isTrue();
    assertThat(List.of(adaptedParams.get("layers.0.lora.query.a").size(0),
        adaptedParams.get("layers.0.lora.query.a").size(1))).isEqualTo(List.of(4L, 16L));
    assertThat(adaptedParams.get("layers.0.lora.layer_1.b").size(0)).isEqualTo(32L);
  }

  @Test
  void build_freezeBase_onlyAdaptersTrainable() {
    LoraConfig lora = new LoraConfig(2, null, null, null, true, null);
    LanguageModel model = StackBuilder.installed().build(model(lora, false));
    for (NamedParameter p : model.uniqueParameters()) {
      boolean inBlock = p.name().startsWith("layers.");
      assertThat(p.trainable()).as(p.name()).isEqualTo(!inBlock || p.name().contains(".lora."));
    }
  }

  @Test
  void build_sharedBlockPerUse_eachUseHasOwnAdapterOverOneBase() {
    LoraConfig lora = new LoraConfig(2, null, null, List.of("query"), true, true);
    LanguageModel model = StackBuilder.installed().build(model(lora, true));
    List<String> names = model.uniqueParameters().stream().map(NamedParameter::name).toList();
    assertThat(names.containsAll(List.of("adapters.0.query.a", "adapters.1.query.a", "adapters.2.query.a")))
        .as(names.toString())
        .isTrue();
    assertThat(names.stream().anyMatch(n -> n.startsWith("layers.1."))).as("the base is stored once").isFalse();
    Tensor tokens = torch.randint(32, new long[] {1, 5}, new TensorOptions(torch.ScalarType.Long));
    model.loss(tokens, tokens).backward();
    Map<String, Tensor> params = Torch.parameters(model);
    assertThat(params.get("adapters.2.query.b").grad().abs().sum().item_double() > 0)
        .as("the third use trains its own B")
        .isTrue();
  }
}
