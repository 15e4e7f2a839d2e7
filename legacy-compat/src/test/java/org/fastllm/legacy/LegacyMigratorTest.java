package org.fastllm.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.fastllm.dsl.bind.ConfigBinder;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.problem.SourceLocation;
import org.fastllm.dsl.yaml.YamlDocument;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LegacyMigratorTest {
  private static final ConfigBinder BINDER = new ConfigBinder(BlockKindRegistry.installed());
  private static final String APRIEL = "apriel-hybrid-training.yaml";

  static YamlDocument resource(String name) {
    try (InputStream in = LegacyMigratorTest.class.getResourceAsStream("/legacy/" + name)) {
      return new YamlTreeReader().read(name, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  static Migration migrate(String name) {
    return new LegacyMigrator().adapt(resource(name)).orElseThrow();
  }

  @Nested
  class Adapt {
    @ParameterizedTest
    @ValueSource(strings = {APRIEL, "flat-sections-no-layout.yaml", "mamba-mix.yaml"})
    void exampleFiles_bindAndResolve(String name) {
      ConfigDocument bound = BINDER.bind(migrate(name).document());
      ModelConfig model = bound.withDefaults().model();
      assertThat(model.blockPattern().stream().distinct().toList())
          .as("every block is used, in order of first use")
          .isEqualTo(model.blocks().keySet().stream().toList());
    }

    @Test
    void aprielHybrid_resolvesToTheSameModelAsItsNewFormatTwin() {
      ModelConfig migrated = BINDER.bind(migrate(APRIEL).document()).withDefaults().model();
      ModelConfig twin = BINDER.bind(resource("apriel-hybrid-new-format.yaml")).withDefaults().model();
      assertThat(migrated).isEqualTo(twin);
    }

    @Test
    void aprielHybrid_resolvedShape() {
      ModelConfig model = BINDER.bind(migrate(APRIEL).document()).withDefaults().model();
      assertThat(List.of(model.hiddenSize(), model.vocabSize(), model.numLayers(),
          model.maxSequenceLength())).isEqualTo(List.of(1024, 32000, 8, 2048));
      assertThat(model.blockPattern())
          .isEqualTo(List.of("transformer", "discrete_mamba2", "discrete_mamba2", "transformer"));
      assertThat(List.of(model.tiedEmbeddingWeight(), model.positionEmbeddings())).isEqualTo(List.of(false, false));
    }

    @Test
    void aprielHybrid_warnsOncePerLegacySectionRenamedKeyAndUnmappedKey() {
      List<String> warnings = migrate(APRIEL).warnings().stream().map(p -> p.location().orElseThrow().line()
          + " " + p.path()).toList();
      assertThat(warnings)
          .isEqualTo(List.of("2 training", "6 batch", "12 data.datasets.training.type", "12 data.datasets.training.path",
              "13 optimizer", "17 pretrained.format", "18 pretrained.path", "19 pretrained.model_weights",
              "21 model.base_model", "22 model.base_model.transformer", "23 model.base_model.transformer.normalization",
              "29 model.base_model.transformer.num_layers", "30 model.base_model.transformer.hidden_size",
              "32 model.base_model.transformer.activation_type", "34 model.base_model.transformer.num_attention_heads",
              "37 model.base_model.transformer.kv_channels", "38 model.base_model.ssm",
              "42 model.base_model.ssm.expansion_factor", "43 model.base_model.hybrid_block_layout",
              "45 model.base_model.tie_word_embeddings", "47 model.multi_stage.zero_stage",
              "49 model.distributed.training_dtype", "50 model.distributed.seed", "51 run"));
    }

    @Test
    void newPaths_pointAtTheLegacyLines() {
      YamlDocument migrated = migrate(APRIEL).document();
      assertThat(migrated.sourceMap().locate("model.blocks.transformer.num_heads").orElseThrow())
          .isEqualTo(new SourceLocation(APRIEL, 34, 7));
      assertThat(migrated.sourceMap().locate("model.block_pattern[3]").orElseThrow())
          .isEqualTo(new SourceLocation(APRIEL, 43, 40));
      assertThat(migrated.sourceMap().locate("model.blocks.discrete_mamba2.d_inner").orElseThrow())
          .isEqualTo(new SourceLocation(APRIEL, 42, 7));
    }

    @Test
    void badValue_isReportedAtTheLegacyLine() {
      YamlDocument legacy = new YamlTreeReader().read("old.yaml", "model:\n  transformer:\n    num_attention_heads: many\n");
      var e = catchThrowableOfType(org.fastllm.dsl.problem.InvalidConfigException.class,
          () -> BINDER.bind(new LegacyMigrator().adapt(legacy).orElseThrow().document()));
      assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();
      assertThat(e.errors().stream().map(p -> p.render()).toList())
          .isEqualTo(List.of("old.yaml:3:5: model.blocks.transformer.num_heads: expected a whole number, got text 'many'"));
    }
  }

  @Nested
  class ToYaml {
    @Test
    void migratedText_isStableAndStartsWithTheModelsWidth() {
      String once = new LegacyMigrator().migrateToYaml(resource(APRIEL)).orElseThrow();
      String twice = new LegacyMigrator().migrateToYaml(resource(APRIEL)).orElseThrow();
      assertThat(twice).isEqualTo(once);
      assertThat(once.startsWith("model:\n  hidden_size: 1024\n  vocab_size: 32000\n")).as(once).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {APRIEL, "flat-sections-no-layout.yaml", "mamba-mix.yaml"})
    void migratedText_readsBackToTheSameModel(String name) {
      Migration migration = migrate(name);
      String text = LegacyMigrator.toYaml(migration.document().root());
      YamlDocument reread = new YamlTreeReader().read("migrated.yaml", text);
      assertThat(new LegacyMigrator().adapt(reread).isEmpty()).as("the migrated file is in the new format").isTrue();
      assertThat(BINDER.bind(reread).withDefaults()).isEqualTo(BINDER.bind(migration.document()).withDefaults());
    }
  }
}
