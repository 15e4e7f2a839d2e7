package org.fastllm.dsl.bind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigMapperTest {
  private static final BlockKindRegistry KINDS = BlockKindRegistry.installed();

  /** Found by the round-trip property: blocks were written as {@code !<ssm>} tags plus a {@code shared} key. */
  @Test
  void yaml_writtenBlock_readsBackEqual() throws Exception {
    ConfigDocument doc = new ConfigDocument(new ModelConfig(64, null, null, null,
        Map.of("claire", SsmBlockConfig.of(SsmVariant.MAMBA1)), List.of("claire"), 2, null, null));

    String yaml = ConfigMapper.yaml(KINDS).writeValueAsString(doc);

    assertThat(yaml).isEqualTo("""
        model:
          hidden_size: 64
          blocks:
            claire:
              kind: ssm
              variant: mamba1
          block_pattern:
          - claire
          num_layers: 2
        """);
    assertThat(new ConfigBinder(KINDS).bind(new YamlTreeReader().read("written.yaml", yaml))).isEqualTo(doc);
  }

  /** The keys every block has live in its {@code common} component, and are read and written flat beside its own. */
  @Test
  void yaml_commonKeysBesideOwnKeys_readIntoCommonAndWrittenBackFlat() throws Exception {
    String yaml = """
        model:
          blocks:
            a:
              kind: transformer
              lr_scale: 0.5
              lora:
                rank: 4
              num_heads: 4
          block_pattern:
          - a
          num_layers: 1
        """;

    ConfigDocument doc = new ConfigBinder(KINDS).bind(new YamlTreeReader().read("a.yaml", yaml));

    TransformerBlockConfig a = (TransformerBlockConfig) doc.model().blocks().get("a");
    assertThat(a.common().lrScale()).isEqualTo(0.5);
    assertThat(a.common().lora().rank()).isEqualTo(4);
    assertThat(a.numHeads()).isEqualTo(4);
    assertThat(ConfigMapper.yaml(KINDS).writeValueAsString(doc)).isEqualTo(yaml);
  }

  /** The record component that holds the common keys is no key of its own. */
  @Test
  void bind_commonWrittenAsAKey_isAnUnknownKey() {
    String yaml = """
        model:
          blocks:
            a: {kind: transformer, common: {lr_scale: 0.5}}
          block_pattern: [a]
          num_layers: 1
        """;

    InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class,
        () -> new ConfigBinder(KINDS).bind(new YamlTreeReader().read("a.yaml", yaml)));
    assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();

    assertThat(e.problems().stream().map(Problem::render).toList())
        .isEqualTo(List.of("a.yaml:3:28: model.blocks.a.common: unknown key 'common' (allowed: activation,"
            + " add_linear_biases, attention_type, causal, dropout, ffn_hidden_size, gated, head_groups, head_size,"
            + " hidden_size, lora, lr_scale, normalization, num_heads, qkv_biases, rotary, shared_weights, sliding_window,"
            + " use_flash_attention, window_size)"));
  }

  /** The spec's key is n_v_heads; Jackson's SNAKE_CASE made it n_vheads, rejecting the documented key. */
  @Test
  void yaml_nVHeads_isTheKeyNVHeads() throws Exception {
    String yaml = """
        model:
          blocks:
            dave: {kind: ssm, variant: discrete_mamba2, n_qk_heads: 4, n_v_heads: 8}
          block_pattern: [dave]
          num_layers: 1
        """;

    ConfigDocument doc = new ConfigBinder(KINDS).bind(new YamlTreeReader().read("dave.yaml", yaml));

    SsmBlockConfig dave = (SsmBlockConfig) doc.model().blocks().get("dave");
    assertThat(dave.nVHeads()).isEqualTo(8);
    assertThat(ConfigMapper.yaml(KINDS).writeValueAsString(doc).contains("n_v_heads: 8")).isEqualTo(true);
    assertThat(ConfigMapper.keyOf("nVHeads")).isEqualTo("n_v_heads");
    assertThat(ConfigMapper.keyOf("dXb")).isEqualTo("d_xb");
  }

  /** Regression: Jackson's SNAKE_CASE made nVHeads 'n_vheads', so the spec's n_v_heads was an unknown key. */
  @ParameterizedTest
  @CsvSource(textBlock = """
      numHeads,   num_heads
      dXb,        d_xb
      nQkHeads,   n_qk_heads
      nVHeads,    n_v_heads
      hiddenSize, hidden_size
      """)
  void keyOf_breaksBeforeEveryCapital(String component, String key) {
    assertThat(ConfigMapper.keyOf(component)).isEqualTo(key);
  }
}
