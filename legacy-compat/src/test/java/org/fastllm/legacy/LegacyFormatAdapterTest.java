package org.fastllm.legacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.ServiceLoader;
import org.fastllm.dsl.migrate.FormatAdapter;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.YamlDocument;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LegacyFormatAdapterTest {

  static YamlDocument read(String yaml) {
    return new YamlTreeReader().read("old.yaml", yaml);
  }

  static Migration migrate(String yaml) {
    return new LegacyFormatAdapter().adapt(read(yaml)).orElseThrow();
  }

  static JsonNode model(String yaml) {
    return migrate(yaml).document().root().get("model");
  }

  static List<String> warnings(String yaml) {
    return migrate(yaml).warnings().stream().map(Problem::render).toList();
  }

  @Nested
  class Recognition {
    @Test
    void adapt_newFormat_isEmpty() {
      String yaml = """
          model:
            blocks: {alice: {kind: transformer}}
            block_pattern: [alice]
            num_layers: 2
          """;
      assertThat(new LegacyFormatAdapter().adapt(read(yaml)).isEmpty()).isTrue();
    }

    @Test
    void adapt_noModelSection_isEmpty() {
      assertThat(new LegacyFormatAdapter().adapt(read("optimizer: {weight_decay: 0.1}\n")).isEmpty()).isTrue();
    }

    @ParameterizedTest
    @CsvSource(textBlock = """
        'model: {base_model: {vocab_size: 1000}}'
        'model: {transformer: {hidden_size: 64}}'
        'model: {ssm: {state_size: 8}}'
        'model: {hybrid_block_layout: [t]}'
        """)
    void adapt_legacySections_areRecognised(String yaml) {
      assertThat(new LegacyFormatAdapter().adapt(read(yaml)).isPresent()).isTrue();
    }

    @Test
    void serviceLoader_findsTheAdapter() {
      assertThat(ServiceLoader.load(FormatAdapter.class).stream()
          .anyMatch(p -> p.type() == LegacyFormatAdapter.class)).isTrue();
    }
  }

  @Nested
  class Defaults {
    /** A hybrid model of that era with nothing but its sections: Fast-LLM's defaults, written out. */
    @ParameterizedTest(name = "{1} = {2}")
    @CsvSource(delimiter = '|', textBlock = """
        model: {base_model: {transformer: {}, ssm: {}}}                        | /hidden_size                              | 1024
        model: {base_model: {transformer: {}, ssm: {}}}                        | /num_layers                               | 12
        model: {base_model: {transformer: {}, ssm: {}}}                        | /vocab_size                               | 49152
        model: {base_model: {transformer: {}, ssm: {}}}                        | /tied_embedding_weight                    | true
        model: {base_model: {transformer: {}, ssm: {}}}                        | /position_embeddings                      | true
        model: {base_model: {transformer: {}, ssm: {}}}                        | /max_sequence_length                      | 2048
        model: {base_model: {transformer: {}, ssm: {}}}                        | /normalization/type                       | layer_norm
        model: {base_model: {transformer: {}, ssm: {}}}                        | /normalization/epsilon                    | 1.0E-5
        model: {base_model: {transformer: {}, ssm: {}}}                        | /block_pattern                            | ["discrete_mamba2"]
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/d_inner           | 2048
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/state_size        | 16
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/conv_kernel_size  | 4
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/n_qk_heads        | 32
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/n_v_heads         | 32
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/chunk_size        | 256
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/add_linear_biases | false
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/ffn_hidden_size   | 4096
        model: {base_model: {transformer: {}, ssm: {}}}                        | /blocks/discrete_mamba2/activation        | gelu
        model: {base_model: {transformer: {}}}                                 | /block_pattern                            | ["transformer"]
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/num_heads             | 8
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/head_groups           | 1
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/attention_type        | mqa
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/head_size             | 128
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/add_linear_biases     | true
        model: {base_model: {transformer: {}}}                                 | /blocks/transformer/rotary                | {"type":"none"}
        model: {base_model: {transformer: {head_groups: 8}}}                   | /blocks/transformer/attention_type        | mha
        model: {base_model: {transformer: {num_attention_heads: 16, head_groups: 4}}} | /blocks/transformer/attention_type | gqa
        model: {base_model: {transformer: {gated: true}}}                      | /blocks/transformer/activation            | silu
        model: {base_model: {transformer: {rotary: {type: default}}}}          | /blocks/transformer/rotary                | {"type":"default","theta":10000.0}
        model: {base_model: {transformer: {rotary: {type: default}}}}          | /position_embeddings                      | false
        model: {base_model: {transformer: {use_rotary_embeddings: true}}}      | /blocks/transformer/rotary/type           | default
        model: {base_model: {transformer: {}, use_position_embeddings: false}} | /position_embeddings                      | false
        model: {base_model: {transformer: {hidden_size: 64}, ssm: {}, hybrid_block_layout: [m2]}} | /blocks/mamba2/d_xb | 64
        model: {base_model: {transformer: {hidden_size: 64}, ssm: {}, hybrid_block_layout: [m2]}} | /blocks/mamba2/repeat_kv_before_conv | true
        model: {base_model: {transformer: {hidden_size: 64}, ssm: {}, hybrid_block_layout: [m2]}} | /blocks/mamba2/dt_rank | auto
        model: {base_model: {transformer: {hidden_size: 64}, ssm: {expansion_factor: 3}, hybrid_block_layout: [m]}} | /blocks/mamba1/d_inner | 192
        model: {base_model: {transformer: {}, ssm: {}, hybrid_block_layout: [m]}} | /blocks/mamba1/add_linear_biases | true
        """)
    void migratedTree_writesFastLlmDefault(String yaml, String pointer, String expected) {
      JsonNode value = model(yaml).at(pointer);
      assertThat(value.isMissingNode()).as(pointer + " is missing").isFalse();
      assertThat(value.isTextual() ? value.asText() : value.toString()).isEqualTo(expected);
    }

    @Test
    void migratedTree_leavesOutKeysTheVariantDoesNotHave() {
      JsonNode block = model("model: {base_model: {ssm: {d_xb: 64, dt_rank: 4}, hybrid_block_layout: [m2d]}}")
          .at("/blocks/discrete_mamba2");
      assertThat(List.of("d_xb", "dt_rank", "repeat_kv_before_conv").stream().filter(block::has).toList())
          .isEqualTo(List.of());
    }
  }

  @Nested
  class Warnings {
    @Test
    void sectionsDirectlyUnderModel_areNamedOnceEach() {
      String yaml = """
          model:
            transformer:
              num_attention_heads: 4
              kv_channels: 16
            ssm:
              conv_kernel_dimension: 3
            hybrid_block_layout: [t, m2d]
            tie_word_embeddings: false
          """;
      assertThat(warnings(yaml)).isEqualTo(List.of(
          "old.yaml:2:3: warning: model.transformer: the global 'transformer' section is deprecated; write per-block"
              + " configs under model.blocks (kind: transformer)",
          "old.yaml:3:5: warning: model.transformer.num_attention_heads: renamed to num_heads in block 'transformer'",
          "old.yaml:4:5: warning: model.transformer.kv_channels: renamed to head_size in block 'transformer'",
          "old.yaml:5:3: warning: model.ssm: the global 'ssm' section is deprecated; write per-block configs under"
              + " model.blocks (kind: ssm, variant: mamba1 | mamba2 | discrete_mamba2)",
          "old.yaml:5:3: warning: model.ssm: Fast-LLM gave the MLP of mamba layers biases from"
              + " transformer.add_linear_biases (true) but their mixer biases from ssm.add_bias_linear (false); this"
              + " tool has one add_linear_biases per block, written as false in block 'discrete_mamba2', so their MLP"
              + " has no biases (5120 fewer parameters per layer than in Fast-LLM)",
          "old.yaml:6:5: warning: model.ssm.conv_kernel_dimension: renamed to conv_kernel_size in block"
              + " 'discrete_mamba2'",
          "old.yaml:7:3: warning: model.hybrid_block_layout: hybrid_block_layout is deprecated; write"
              + " model.block_pattern with block names (t -> transformer, m2d -> discrete_mamba2)",
          "old.yaml:8:3: warning: model.tie_word_embeddings: renamed to tied_embedding_weight under model"));
    }

    @Test
    void hybridWithoutLayout_saysEveryLayerIsDiscreteMamba2() {
      assertThat(warnings("model: {ssm: {}}").contains("old.yaml:1:9: warning: model.ssm: no hybrid_block_layout:"
          + " Fast-LLM's default for a hybrid model was a discrete Mamba 2 ('m2d') in every layer, not transformer"
          + " layers; written as block_pattern: [discrete_mamba2]")).isTrue();
    }

    @Test
    void noSsmNoLayout_isReadAsGpt() {
      assertThat(warnings("model: {base_model: {}}"))
          .isEqualTo(List.of("old.yaml:1:9: warning: model.base_model: the 'base_model' level is deprecated; write its"
                  + " keys directly under model",
              "old.yaml:1:9: warning: model.base_model: no 'ssm' section and no hybrid_block_layout: read as a Fast-LLM"
                  + " GPT model, a transformer in every layer; written as block_pattern: [transformer]"));
    }

    @Test
    void m2_warnsAboutItsOlderMeaning() {
      assertThat(warnings("model: {hybrid_block_layout: [t, m2]}").contains("old.yaml:1:34: warning:"
          + " model.hybrid_block_layout[1]: 'm2' is read as Mamba 2 (its meaning in Fast-LLM from July 2025); files"
          + " written before June 2025 used 'm2' for discrete Mamba 2, which is 'm2d' now")).isTrue();
    }

    @Test
    void keysWithoutEquivalent_areNamed() {
      String yaml = """
          model:
            base_model:
              transformer: {init_method_std: 0.02, max_window_layers: 2, attention_dropout: 0.1}
              ssm: {dt_min: 0.01, activation_type: silu}
              prediction_heads: 3
              cross_entropy_impl: fused
            multi_stage: {zero_stage: 3}
            distributed: {training_dtype: bf16}
          """;
      List<String> all = warnings(yaml);
      for (String expected : List.of(
          "model.base_model.transformer.init_method_std: has no equivalent in this tool; ignored (an initialisation"
              + " setting)",
          "model.base_model.transformer.max_window_layers: has no equivalent in this tool; ignored (in Fast-LLM the"
              + " layers with index below it used full attention; here every transformer layer uses the window)",
          "model.base_model.transformer.attention_dropout: has no equivalent in this tool; ignored (dropout on"
              + " attention probabilities)",
          "model.base_model.ssm.dt_min: has no equivalent in this tool; ignored (an initialisation setting)",
          "model.base_model.ssm.activation_type: has no equivalent in this tool; ignored (the discrete Mamba 2"
              + " mixer's activation is silu here, Fast-LLM's default)",
          "model.base_model.prediction_heads: multi-token prediction has no equivalent in this tool; the 2 extra"
              + " prediction head(s), each a 'm2d' layer and an output head, are not built",
          "model.base_model.cross_entropy_impl: has no equivalent in this tool; ignored (a kernel or parallelism"
              + " setting)",
          "model.multi_stage.zero_stage: has no equivalent in this tool; ignored (a Fast-LLM multi-stage setting:"
              + " ZeRO stage, buffers, pipeline stages)",
          "model.distributed.training_dtype: has no equivalent in this tool; ignored (a Fast-LLM distributed"
              + " setting: parallelism, seeds, dtypes)")) {
        assertThat(all.stream().anyMatch(w -> w.endsWith("warning: " + expected)))
            .as(() -> expected + " not in " + all)
            .isTrue();
      }
    }

    @Test
    void topLevelSections_areMappedWithFastLlmDefaultsOrNamedAndDropped() {
      Migration m = migrate("model: {transformer: {}}\noptimizer: {weight_decay: 0.1, beta_2: 0.95}\nrun: {}\n"
          + "batch: {micro_batch_size: 2, batch_size: 8, sequence_length: 64}\ntraining: {train_iters: 50, wandb: {}}\n");
      List<String> all = m.warnings().stream().map(Problem::render).toList();
      assertThat(all.contains("old.yaml:2:1: warning: optimizer: the 'optimizer' section of a Fast-LLM training file is"
          + " deprecated; mapped to optimizer.weight_decay -> optimizer.weight_decay, optimizer.beta_2 ->"
          + " optimizer.beta2 (write those keys instead)")).as(all::toString).isTrue();
      assertThat(all.contains("old.yaml:3:1: warning: run: the 'run' section of a Fast-LLM training file has no"
          + " equivalent in this tool; ignored")).as(all::toString).isTrue();
      assertThat(all.contains("old.yaml:5:29: warning: training.wandb: has no equivalent in this tool; ignored"))
          .as(all::toString)
          .isTrue();
      var root = m.document().root();
      assertThat(List.copyOf(iterable(root.fieldNames()))).isEqualTo(List.of("model", "optimizer", "training"));
      assertThat(root.get("optimizer").toString())
          .isEqualTo("{\"weight_decay\":0.1,\"beta2\":0.95,\"learning_rate\":1.0E-4,\"min_learning_rate\":0.0,"
              + "\"warmup_steps\":0,\"schedule\":\"constant\",\"beta1\":0.9,\"epsilon\":1.0E-8,\"grad_clip\":1.0}");
      assertThat(root.get("training").toString())
          .isEqualTo("{\"batch_size\":2,\"gradient_accumulation\":4,\"sequence_length\":64,\"steps\":50}");
    }

    @Test
    void onlyAttnQkvBiases_nameWhatIsLost() {
      assertThat(warnings("model: {transformer: {hidden_size: 64, num_attention_heads: 4, head_groups: 2,"
          + " add_linear_biases: only_attn_qkv}}").contains("old.yaml:1:80: warning:"
          + " model.transformer.add_linear_biases: 'only_attn_qkv' has no equivalent in this tool (one"
          + " add_linear_biases per block); written as false, so the query and key_value biases of block"
          + " 'transformer' are not built (128 fewer parameters per layer than in Fast-LLM)")).isTrue();
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
      List<String> out = new java.util.ArrayList<>();
      it.forEachRemaining(out::add);
      return out;
    }
  }

  @Nested
  class Errors {
    private List<String> errors(String yaml) {
      InvalidConfigException e = catchThrowableOfType(InvalidConfigException.class, () -> migrate(yaml));
      assertThat(e).as("expected InvalidConfigException to be thrown").isNotNull();
      return e.errors().stream().map(Problem::render).toList();
    }

    @Test
    void unknownKey_isAnErrorWithSuggestion() {
      assertThat(errors("model: {transformer: {num_attention_head: 4}}"))
          .isEqualTo(List.of("old.yaml:1:23: model.transformer.num_attention_head: unknown key in Fast-LLM's"
              + " transformer section (did you mean 'num_attention_heads'?)"));
    }

    @Test
    void unknownLetter_isAnError() {
      assertThat(errors("model: {hybrid_block_layout: [t, mamba]}"))
          .isEqualTo(List.of("old.yaml:1:34: model.hybrid_block_layout[1]: unknown layer letter 'mamba' (allowed: t,"
              + " m, m2, m2d)"));
    }

    @Test
    void layoutNotDividingLayers_isAnError() {
      assertThat(errors("model: {transformer: {num_layers: 4}, hybrid_block_layout: [t, m, t]}"))
          .isEqualTo(List.of("old.yaml:1:39: model.hybrid_block_layout: has 3 entries, which do not divide num_layers"
              + " 4; Fast-LLM rejected such layouts (it repeats a layout a whole number of times)"));
    }
  }
}
