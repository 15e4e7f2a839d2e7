package org.fastllm.validation.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  static final ConfigLoader LOADER = ConfigLoader.standard();

  static Path seed(String name) {
    try {
      return Path.of(ConfigLoaderTest.class.getResource("/seed/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Nested
  class SeedExamples {
    @Test
    void load_oneBlockSeed_isValidAsWritten() {
      LoadedConfig config = LOADER.load(seed("one-block.yaml"));

      assertThat(config.warnings()).isEmpty();
      assertThat(config.model().hiddenSize()).isEqualTo(4096);
      assertThat(config.plan().layers()).hasSize(48);
      TransformerBlockConfig block = (TransformerBlockConfig) config.model().blocks().get("default_transformer");
      assertThat(block.headGroups()).isEqualTo(1);
      assertThat(block.headSize()).isEqualTo(256);
    }

    @Test
    void load_manyBlocksSeed_expandsTo15LayersWithBobSharedAtSixPositions() {
      LoadedConfig config = LOADER.load(seed("many-blocks.yaml"));

      assertThat(config.warnings()).isEmpty();
      assertThat(config.plan().layers()).hasSize(15);
      assertThat(config.plan().positionsOf("bob")).containsExactly(1, 4, 6, 9, 11, 14);
      var bob = config.count().blocks().stream().filter(b -> b.name().equals("bob")).findFirst().orElseThrow();
      assertThat(bob.shared()).isTrue();
      assertThat(bob.uses()).isEqualTo(6);
      assertThat(bob.unique()).isEqualTo(bob.perUse());
      assertThat(bob.effective()).isEqualTo(6 * bob.perUse());
    }

    @Test
    void load_manyBlocksSeed_resolvesTheSeedDefaults() {
      LoadedConfig config = LOADER.load(seed("many-blocks.yaml"));

      TransformerBlockConfig bob = (TransformerBlockConfig) config.model().blocks().get("bob");
      assertThat(bob.headGroups()).isEqualTo(2);
      assertThat(bob.windowSize()).isEqualTo(4096);
      SsmBlockConfig claire = (SsmBlockConfig) config.model().blocks().get("claire");
      assertThat(claire.variant()).isEqualTo(SsmVariant.MAMBA1);
      assertThat(claire.dtRank().value()).isEqualTo(64);
      assertThat(claire.dInner()).isEqualTo(2048);
      SsmBlockConfig dave = (SsmBlockConfig) config.model().blocks().get("dave");
      assertThat(dave.nQkHeads()).isEqualTo(32);
      assertThat(dave.chunkSize()).isEqualTo(256);
    }
  }

  @Nested
  class Counts {
    @Test
    void load_tinyModel_countsEveryTensorByHand() {
      LoadedConfig config = LOADER.load("t.yaml", """
          model:
            hidden_size: 8
            vocab_size: 10
            blocks:
              a: {kind: transformer, attention_type: mha, num_heads: 2, ffn_hidden_size: 16}
            block_pattern: [a]
            num_layers: 2
          """);
      // norms 2x(8+8); query 8x8+8; key_value 16x8+16; dense 8x8+8; layer_1 16x8+16; layer_2 8x16+8
      long perLayer = 32 + 72 + 144 + 72 + 144 + 136;
      assertThat(config.count().blocks().get(0).perUse()).isEqualTo(perLayer);
      assertThat(config.count().total()).isEqualTo(10 * 8 + 2 * perLayer + 16 + 10 * 8);
    }

    @Test
    void load_standardMamba2_countsEveryTensorByHand() {
      LoadedConfig config = LOADER.load("t.yaml", """
          model:
            hidden_size: 8
            vocab_size: 10
            normalization: {type: rms_norm}
            blocks:
              m: {kind: ssm, variant: mamba2_standard, d_inner: 16, head_size: 4, n_groups: 2, state_size: 3,
                  ffn_hidden_size: 0}
            block_pattern: [m]
            num_layers: 2
          """);
      // 4 heads, conv over 16 + 2x2x3 = 28 channels: norm_1 8; in_proj (16 + 28 + 4) x 8; conv1d 28x4 + 28;
      // dt_bias, A_log, D 3x4; norm.weight 16; out_proj 8x16
      long perLayer = 8 + 48 * 8 + 28 * 4 + 28 + 3 * 4 + 16 + 8 * 16;
      assertThat(config.count().blocks().get(0).perUse()).isEqualTo(perLayer);
      assertThat(config.count().total()).isEqualTo(10 * 8 + 2 * perLayer + 8 + 10 * 8);
    }

    @Test
    void load_tiedAndLora_countsLoraApartAndHeadOnce() {
      LoadedConfig config = LOADER.load("t.yaml", """
          model:
            hidden_size: 8
            vocab_size: 10
            tied_embedding_weight: true
            blocks:
              a: {kind: transformer, attention_type: mha, num_heads: 2, ffn_hidden_size: 0, shared_weights: true,
                  lora: {rank: 2, targets: [query], per_use: true, freeze_base: true}}
            block_pattern: [a]
            num_layers: 3
          """);
      var block = config.count().blocks().get(0);
      assertThat(config.count().head()).isZero();
      assertThat(block.lora()).isEqualTo(3 * 2 * (8 + 8));
      assertThat(config.count().lora()).isEqualTo(block.lora());
      assertThat(config.count().trainable()).isEqualTo(config.count().base() - block.unique() + block.lora());
    }
  }

  @Nested
  class AllProblemsAtOnce {
    @Test
    void load_manyMistakes_reportsEveryOneWithLines() {
      InvalidConfigException e = invalid("""
          model:
            hidden_size: 1000
            blocks:
              bob: {kind: transformer, attention_type: gqa, num_heads: 6}
              eve: {kind: ssm, variant: mamba2, d_xb: 24, n_qk_heads: 3, hidden_size: 12}
            block_pattern: [bob, bobb, eve]
            num_layers: 0
          """);

      assertThat(e.errors()).extracting(Problem::render).containsExactly(
          "m.yaml:4:5: model.blocks.bob.head_groups: is required for attention_type gqa when num_heads (6) is not a"
              + " multiple of 4 above 4 (the default is num_heads / 4)",
          "m.yaml:4:5: model.blocks.bob.head_size: hidden_size 1000 is not divisible by num_heads 6; set head_size"
              + " explicitly",
          "m.yaml:5:5: model.blocks.eve.d_inner: must be a multiple of state_size (16), got 24",
          "m.yaml:5:39: model.blocks.eve.d_xb: must be a multiple of state_size (16), got 24",
          "m.yaml:5:49: model.blocks.eve.n_qk_heads: applies only to variant discrete_mamba2 (this block is mamba2)",
          "m.yaml:5:64: model.blocks.eve.hidden_size: is 12 but the model's hidden_size is 1000 (every block shares"
              + " one residual width)",
          "m.yaml:6:24: model.block_pattern[1]: unknown block 'bobb' (did you mean 'bob'?; defined: bob, eve)",
          "m.yaml:7:3: model.num_layers: must be at least 1, got 0");
    }
  }

  static InvalidConfigException invalid(String yaml) {
    try {
      LOADER.load("m.yaml", yaml);
    } catch (InvalidConfigException e) {
      return e;
    }
    throw new AssertionError("expected the config to be rejected:\n" + yaml);
  }

  static List<String> errors(String yaml) {
    return invalid(yaml).errors().stream().map(Problem::render).toList();
  }
}
