package org.fastllm.dsl.reference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.CheckpointConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.dsl.config.RotaryConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ConfigReferenceTest {
  static final List<Class<?>> SECTIONS = List.of(ConfigDocument.class, ModelConfig.class,
      TransformerBlockConfig.class, SsmBlockConfig.class, NormalizationConfig.class, RotaryConfig.class,
      LoraConfig.class, DataConfig.class, OptimizerConfig.class, TrainingConfig.class, CheckpointConfig.class);

  @Nested
  class SectionKeysOf {
    @Test
    void of_everyCoreSection_literalDefaultsInDocAgreeWithWithDefaults() {
      for (Class<?> section : SECTIONS) {
        assertThat(literalDefaultsDisagreeing(section)).as("@Doc defaults of %s", section.getSimpleName()).isEmpty();
      }
    }

    @Test
    void of_docLiteralDefaultOtherThanWithDefaults_isCaught() {
      record Width(@Doc(value = "a width", defaultValue = "32 (when unset)") Integer width) {
        public Width withDefaults() {
          return new Width(width == null ? 64 : width);
        }
      }

      assertThat(literalDefaultsDisagreeing(Width.class))
          .containsExactly("Width.width: @Doc says 32, withDefaults gives 64");
    }

    /** Keys whose {@link Doc} default starts with a literal that is not what {@code withDefaults} gives. */
    static List<String> literalDefaultsDisagreeing(Class<?> section) {
      return SectionKeys.of(section).stream()
          .filter(k -> !k.documentedLiteral().isEmpty() && !k.documentedLiteral().equals(k.derivedDefault()))
          .map(k -> section.getSimpleName() + "." + k.key() + ": @Doc says " + k.documentedLiteral()
              + ", withDefaults gives " + k.derivedDefault())
          .toList();
    }

    @Test
    void of_everyCoreSection_everyKeyHasADescriptionAndADefaultOrSaysWhy() {
      for (Class<?> section : SECTIONS) {
        for (ReferenceKey key : SectionKeys.of(section)) {
          assertThat(key.description()).as("%s.%s", section.getSimpleName(), key.key()).isNotBlank();
          assertThat(key.defaultText()).as("default of %s.%s", section.getSimpleName(), key.key()).isNotEqualTo("-");
        }
      }
    }

    @Test
    void of_trainingSection_takesDefaultsAndBoundsFromTheRecord() {
      ReferenceKey steps = SectionKeys.of(TrainingConfig.class).get(0);

      assertThat(steps).extracting(ReferenceKey::key, ReferenceKey::type, ReferenceKey::defaultText,
          ReferenceKey::allowed).containsExactly("steps", "integer", "300", ">= 1");
    }

    @Test
    void of_ssmVariantKey_getsItsOwnVariantsDefault() {
      assertThat(SectionKeys.of(SsmBlockConfig.class)).filteredOn(k -> k.key().equals("chunk_size"))
          .singleElement().extracting(ReferenceKey::defaultText).isEqualTo("256");
    }

    @Test
    void of_recordWithUndocumentedKey_failsNamingTheKey() {
      record Undocumented(Integer size) {}

      assertThatThrownBy(() -> SectionKeys.of(Undocumented.class)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Undocumented.size has no @Doc description");
    }
  }

  @Nested
  class Markdown {
    final String markdown = ConfigReference.markdown(BlockKindRegistry.installed());

    @Test
    void markdown_coreKinds_listsEveryKeyWithTypeDefaultAndBounds() {
      assertThat(markdown)
          .contains("| `num_heads` | integer | 8 | >= 1 | query heads |")
          .contains("| `attention_type` | one of | mqa, or read from head_groups when that is given | `mha`, `mqa`, `gqa` |")
          .contains("| `epsilon` | number | 1e-8 | > 0 | AdamW denominator epsilon |")
          .contains("| [ssm](#kind-ssm) | core |");
    }

    @ParameterizedTest
    @ValueSource(strings = {"## model", "## blocks", "### kind: transformer", "### kind: ssm", "## normalization",
        "## lora", "## rotary", "## data", "## optimizer", "## training", "## checkpoint"})
    void markdown_coreKinds_hasEachSectionOnce(String heading) {
      assertThat(markdown.lines().filter(heading::equals)).hasSize(1);
    }

    @Test
    void markdown_calledTwice_isTheSameText() {
      assertThat(ConfigReference.markdown(BlockKindRegistry.installed())).isEqualTo(markdown);
    }
  }
}
