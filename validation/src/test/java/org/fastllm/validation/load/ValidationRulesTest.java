package org.fastllm.validation.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fastllm.validation.load.ConfigLoaderTest.LOADER;
import static org.fastllm.validation.load.ConfigLoaderTest.errors;

import java.util.stream.Stream;
import org.fastllm.dsl.problem.Problem;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Every rule of SPEC section 4, each with the exact message a user reads. */
class ValidationRulesTest {

  /** A one-block model whose block is {@code a: {<block>}}, used at every layer. */
  static String model(String block) {
    return """
        model:
          hidden_size: 64
          blocks:
            a: {%s}
          block_pattern: [a]
          num_layers: 2
        """.formatted(block);
  }

  static Stream<Arguments> blockRules() {
    return Stream.of(
        Arguments.of("kind: transformer, num_heads: 8, head_groups: 3",
            "m.yaml:4:42: model.blocks.a.head_groups: must divide num_heads (8), got 3"),
        Arguments.of("kind: transformer, attention_type: mha, num_heads: 8, head_groups: 2",
            "m.yaml:4:28: model.blocks.a.attention_type: mha needs head_groups equal to num_heads (8), got head_groups 2; use gqa"),
        Arguments.of("kind: transformer, attention_type: mqa, num_heads: 8, head_groups: 8",
            "m.yaml:4:28: model.blocks.a.attention_type: mqa needs head_groups 1, got head_groups 8; use mha"),
        Arguments.of("kind: transformer, attention_type: gqa, num_heads: 8, head_groups: 1",
            "m.yaml:4:28: model.blocks.a.attention_type: gqa needs 1 < head_groups < num_heads (8), got head_groups 1; use mqa"),
        Arguments.of("kind: transformer, sliding_window: true, window_size: 0",
            "m.yaml:4:50: model.blocks.a.window_size: must be at least 1 when sliding_window is true, got 0"),
        Arguments.of("kind: transformer, num_heads: 0",
            "m.yaml:4:28: model.blocks.a.num_heads: must be at least 1, got 0"),
        Arguments.of("kind: ssm, variant: mamba1, d_inner: 100",
            "m.yaml:4:37: model.blocks.a.d_inner: must be a multiple of state_size (16), got 100"),
        Arguments.of("kind: ssm, variant: mamba2, d_inner: 128, d_xb: 40",
            "m.yaml:4:51: model.blocks.a.d_xb: must be a multiple of state_size (16), got 40"),
        Arguments.of("kind: ssm, variant: mamba2, d_inner: 80, d_xb: 32",
            "m.yaml:4:50: model.blocks.a.d_xb: d_inner / state_size (5 heads) must be a multiple of d_xb / state_size (2 groups), got d_xb 32"),
        Arguments.of("kind: ssm, variant: discrete_mamba2, n_v_heads: 6, n_qk_heads: 3",
            "m.yaml:4:5: model.blocks.a.d_inner: must be a multiple of n_v_heads (6), got 128"),
        Arguments.of("kind: ssm, variant: discrete_mamba2, n_v_heads: 32, n_qk_heads: 5",
            "m.yaml:4:46: model.blocks.a.n_v_heads: must be a multiple of n_qk_heads (5), got 32"),
        Arguments.of("kind: ssm, variant: mamba1, chunk_size: 64",
            "m.yaml:4:37: model.blocks.a.chunk_size: applies only to variant discrete_mamba2 and mamba2_standard (this block is mamba1)"),
        Arguments.of("kind: ssm, variant: discrete_mamba2, dt_rank: 4",
            "m.yaml:4:46: model.blocks.a.dt_rank: applies only to variant mamba1 and mamba2 (this block is discrete_mamba2)"),
        Arguments.of("kind: ssm, variant: mamba2_standard, head_size: 48",
            "m.yaml:4:5: model.blocks.a.d_inner: must be a multiple of head_size (48), got 128"),
        Arguments.of("kind: ssm, variant: mamba2_standard, head_size: 32, n_groups: 3",
            "m.yaml:4:61: model.blocks.a.n_groups: must divide the d_inner / head_size = 4 heads, got 3"),
        Arguments.of("kind: ssm, variant: mamba1, n_groups: 2",
            "m.yaml:4:37: model.blocks.a.n_groups: applies only to variant mamba2_standard (this block is mamba1)"),
        Arguments.of("kind: ssm, variant: mamba2, conv_bias: false",
            "m.yaml:4:37: model.blocks.a.conv_bias: applies only to variant mamba1 and mamba2_standard (this block is mamba2)"),
        Arguments.of("kind: ssm, variant: mamba2_standard, dt_rank: 4",
            "m.yaml:4:46: model.blocks.a.dt_rank: applies only to variant mamba1 and mamba2 (this block is mamba2_standard)"),
        Arguments.of("kind: ssm, variant: mamba2_standard, head_size: 0",
            "m.yaml:4:46: model.blocks.a.head_size: must be at least 1, got 0"),
        Arguments.of("kind: ssm, variant: mamba1, d_inner: 256, expansion_factor: 2",
            "m.yaml:4:37: model.blocks.a.d_inner: is 256 but expansion_factor 2 x hidden_size 64 = 128; give only one of them"),
        Arguments.of("kind: ssm",
            "m.yaml:4:5: model.blocks.a.variant: is required (mamba1, mamba2, discrete_mamba2 or mamba2_standard)"),
        Arguments.of("kind: transformer, lora: {rank: 0}",
            "m.yaml:4:35: model.blocks.a.lora.rank: must be at least 1, got 0"),
        Arguments.of("kind: transformer, lora: {rank: 4, targets: [query, in_proj]}",
            "m.yaml:4:61: model.blocks.a.lora.targets[1]: 'in_proj' is not a linear layer of this transformer block"
                + " (it has: query, key_value, dense, layer_1, layer_2)"),
        Arguments.of("kind: ssm, variant: mamba1, lora: {rank: 4, targets: [querry]}",
            "m.yaml:4:63: model.blocks.a.lora.targets[0]: 'querry' is not a linear layer of this ssm block"
                + " (it has: in_proj, x_proj, dt_proj, out_proj, layer_1, layer_2)"),
        Arguments.of("kind: transformer, lora: {rank: 4, per_use: true}",
            "m.yaml:4:44: model.blocks.a.lora.per_use: needs shared_weights: true (an unshared block already has one"
                + " adapter per use)"),
        Arguments.of("kind: transformr",
            "m.yaml:4:9: model.blocks.a.kind: unknown kind 'transformr' (did you mean 'transformer'?) (installed kinds:"
                + " ssm, transformer)"),
        Arguments.of("kind: transformer, num_head: 4",
            "m.yaml:4:28: model.blocks.a.num_head: unknown key 'num_head' (did you mean 'num_heads'?)"),
        Arguments.of("kind: transformer, num_heads: many",
            "m.yaml:4:28: model.blocks.a.num_heads: expected a whole number, got text 'many'"),
        Arguments.of("kind: transformer, shared_weights: yes",
            "m.yaml:4:28: model.blocks.a.shared_weights: expected true or false, got 'yes' (YAML 1.1 words such as"
                + " yes, no, on and off are not booleans here)"),
        Arguments.of("kind: transformer, attention_type: MHA",
            "m.yaml:4:28: model.blocks.a.attention_type: unknown value 'MHA' (did you mean 'mha'?) (allowed: mha, mqa, gqa)"),
        Arguments.of("kind: transformer, ffn_hidden_size: 3000000000",
            "m.yaml:4:28: model.blocks.a.ffn_hidden_size: value 3000000000 is too large (at most 2147483647)"),
        Arguments.of("kind: transformer, num_heads: 2000000000, head_size: 2000000000",
            "m.yaml:1:1: model: the parameter count does not fit a 64-bit integer: some sizes are far too large"));
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("blockRules")
  void load_blockBreakingOneRule_reportsExactlyThatRule(String block, String expected) {
    assertThat(errors(model(block))).containsExactly(expected);
  }

  @Test
  void load_emptyBlocksAndPattern_reportsBoth() {
    assertThat(errors("""
        model:
          blocks: {}
          block_pattern: []
          num_layers: 1
        """)).containsExactly(
        "m.yaml:2:3: model.blocks: is required: define at least one named block, e.g. 'alice: {kind: transformer}'",
        "m.yaml:3:3: model.block_pattern: is required: a non-empty list of block names, e.g. [alice, bob]");
  }

  /** Issue 15's last row: shape problems (unknown key, unknown value) hid the rules of the rest of the file. */
  @Test
  void validate_unknownKeyAndEnumWithHeadGroupsAndZeroLayers_reportsAllFourAtOnce() {
    assertThat(errors("""
        model:
          hidden_size: 64
          colour: blue
          blocks:
            a: {kind: transformer, attention_type: MHA, num_heads: 8, head_groups: 3}
          block_pattern: [a]
          num_layers: 0
        """)).containsExactly(
        "m.yaml:3:3: model.colour: unknown key 'colour' (allowed: block_pattern, blocks, hidden_size,"
            + " max_sequence_length, normalization, num_layers, position_embeddings, tied_embedding_weight,"
            + " vocab_size)",
        "m.yaml:5:28: model.blocks.a.attention_type: unknown value 'MHA' (did you mean 'mha'?) (allowed: mha, mqa,"
            + " gqa)",
        "m.yaml:5:63: model.blocks.a.head_groups: must divide num_heads (8), got 3",
        "m.yaml:7:3: model.num_layers: must be at least 1, got 0");
  }

  /** The rule problems beside shape problems are the user's own, never ones the left-out values would cause. */
  @Nested
  class RulesBesideShapeProblems {
    @Test
    void load_wrongTypeOfAKeyARuleReads_reportsOnlyTheWrongType() {
      assertThat(errors(model("kind: transformer, num_heads: many, head_groups: 3"))).containsExactly(
          "m.yaml:4:28: model.blocks.a.num_heads: expected a whole number, got text 'many'");
    }

    @Test
    void load_wrongTypeInAnotherBlock_stillReportsThisBlocksRule() {
      assertThat(errors("""
          model:
            hidden_size: 64
            blocks:
              a: {kind: transformer, num_heads: 8, head_groups: 3}
              b: {kind: transformer, num_heads: many, head_groups: 3}
            block_pattern: [a, b]
            num_layers: 2
          """)).containsExactly(
          "m.yaml:4:42: model.blocks.a.head_groups: must divide num_heads (8), got 3",
          "m.yaml:5:28: model.blocks.b.num_heads: expected a whole number, got text 'many'");
    }

    @Test
    void load_misspelledRequiredKey_isNotAlsoReportedMissing() {
      assertThat(errors("""
          model:
            blocks:
              a: {kind: transformer}
            block_pattern: [a]
            num_layer: 2
            vocab_size: 0
          """)).containsExactly(
          "m.yaml:5:3: model.num_layer: unknown key 'num_layer' (did you mean 'num_layers'?)",
          "m.yaml:6:3: model.vocab_size: must be at least 1, got 0");
    }

    @Test
    void load_wrongModelWidth_hidesTheRulesThatNameIt() {
      assertThat(errors("""
          model:
            hidden_size: wide
            blocks:
              a: {kind: ssm, variant: mamba1, d_inner: 256, expansion_factor: 2}
            block_pattern: [a]
            num_layers: 0
          """)).containsExactly(
          "m.yaml:2:3: model.hidden_size: expected a whole number, got text 'wide'",
          "m.yaml:6:3: model.num_layers: must be at least 1, got 0");
    }

    @Test
    void load_unknownKind_stillStopsBeforeTheRules() {
      assertThat(errors("""
          model:
            blocks:
              a: {kind: transformr}
            block_pattern: [a]
            num_layers: 0
          """)).containsExactly("m.yaml:3:9: model.blocks.a.kind: unknown kind 'transformr' (did you mean"
          + " 'transformer'?) (installed kinds: ssm, transformer)");
    }
  }

  /** Issue 15, table row 8: validate said valid and train crashed inside libtorch. */
  @Nested
  class SequenceLengthAboveMaxSequenceLengthWithLearnedPositions {
    static String config(String model, String training) {
      return """
          model:
            hidden_size: 64
            blocks:
              a: {kind: transformer}
            block_pattern: [a]
            num_layers: 2
          %s
          training:
            %s
          """.formatted(model, training);
    }

    @Test
    void validate_sequenceLengthAboveMaxSequenceLengthWithLearnedPositions_isReportedAtTheSequenceLength() {
      assertThat(errors(config("  max_sequence_length: 64\n  position_embeddings: true",
          "sequence_length: 128"))).containsExactly(
          "m.yaml:10:3: training.sequence_length: 128 is above model.max_sequence_length (64), the length of the"
              + " learned position embeddings; raise max_sequence_length or shorten the sequences");
    }

    @Test
    void load_defaultSequenceLengthAboveMaxSequenceLength_isReportedAtTheTrainingSection() {
      assertThat(errors(config("  max_sequence_length: 64\n  position_embeddings: true", "steps: 5")))
          .containsExactly("m.yaml:9:1: training.sequence_length: 128 is above model.max_sequence_length (64), the"
              + " length of the learned position embeddings; raise max_sequence_length or shorten the sequences");
    }

    @Test
    void load_withoutLearnedPositions_hasNoLengthLimit() {
      assertThat(LOADER.load("m.yaml", config("  max_sequence_length: 64", "sequence_length: 128")).warnings())
          .isEmpty();
    }

    @Test
    void load_sequenceLengthWithinMaxSequenceLength_isValid() {
      assertThat(LOADER.load("m.yaml", config("  max_sequence_length: 128\n  position_embeddings: true",
          "sequence_length: 128")).warnings()).isEmpty();
    }

    @Test
    void validate_sequenceLengthRuleBesideAnUnknownKeyAndAModelRule_reportsAllAtOnce() {
      assertThat(errors(config("  max_sequence_length: 64\n  position_embeddings: true\n  colour: red",
          "sequence_length: 128").replace("num_layers: 2", "num_layers: 0"))).containsExactly(
          "m.yaml:6:3: model.num_layers: must be at least 1, got 0",
          "m.yaml:9:3: model.colour: unknown key 'colour' (allowed: block_pattern, blocks, hidden_size,"
              + " max_sequence_length, normalization, num_layers, position_embeddings, tied_embedding_weight,"
              + " vocab_size)",
          "m.yaml:11:3: training.sequence_length: 128 is above model.max_sequence_length (64), the length of the"
              + " learned position embeddings; raise max_sequence_length or shorten the sequences");
    }
  }

  /** Issue 15 item 4: a tokenizer whose ids do not fit the vocabulary was found only after tokenizing the text. */
  @Nested
  class TokenizerVocabularyAboveVocabSize {
    static String config(int vocab, String tokenizer) {
      return """
          model:
            hidden_size: 64
            vocab_size: %d
            blocks:
              a: {kind: transformer}
            block_pattern: [a]
            num_layers: 2
          data: {path: corpus.txt, tokenizer: '%s'}
          """.formatted(vocab, tokenizer);
    }

    @Test
    void validate_tokenizerJsonWithMoreIdsThanVocabSize_isReportedAtTheTokenizer(
        @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws java.io.IOException {
      java.nio.file.Path tokenizer = dir.resolve("tokenizer.json");
      java.nio.file.Files.writeString(tokenizer, """
          {"model": {"type": "WordLevel", "vocab": {"a": 0, "b": 1, "c": 499}},
           "added_tokens": [{"id": 500, "content": "<eos>"}]}
          """);

      assertThat(errors(config(300, tokenizer.toString()))).containsExactly("m.yaml:8:26: data.tokenizer: "
          + tokenizer + " produces ids up to 500 but model.vocab_size is 300; set model.vocab_size to at least 501");
      assertThat(LOADER.load("m.yaml", config(501, tokenizer.toString())).warnings()).isEmpty();
    }

    @Test
    void validate_byteTokenizerAboveVocabSize_isReportedAtTheTokenizer() {
      assertThat(errors(config(100, "bytes"))).containsExactly("m.yaml:8:26: data.tokenizer: bytes produces ids up"
          + " to 255 but model.vocab_size is 100; set model.vocab_size to at least 256");
    }

    @Test
    void load_missingTokenizerFile_isLeftToTrainsDataChecks() {
      assertThat(LOADER.load("m.yaml", config(100, "no-such-tokenizer.json")).warnings()).isEmpty();
    }
  }

  @Test
  void load_missingModel_saysModelIsRequired() {
    assertThat(errors("other: 1\n")).containsExactly(
        "m.yaml:1:1: other: unknown key 'other' (allowed: checkpoint, data, model, optimizer, training)");
    assertThat(errors("{}\n")).containsExactly("m.yaml:1:1: model: is required: a config file starts with 'model:'");
  }

  /** Found by the mutation fuzz test: YAML's "? " makes an empty key, whose path was blank. */
  @Test
  void load_emptyKey_isNamedInThePath() {
    assertThat(errors("? \n")).containsExactly(
        "m.yaml:1:2: '': unknown key '' (allowed: checkpoint, data, model, optimizer, training)");
  }

  @Test
  void load_hiddenSizesDisagreeBetweenBlocks_namesTheLaterBlock() {
    assertThat(errors("""
        model:
          blocks:
            a: {kind: transformer, hidden_size: 64}
            b: {kind: transformer, hidden_size: 32}
          block_pattern: [a, b]
          num_layers: 2
        """)).containsExactly("m.yaml:4:28: model.blocks.b.hidden_size: is 32 but the model's hidden_size is 64"
        + " (every block shares one residual width)");
  }

  @Test
  void load_unusedBlockAndCutPattern_warnsWithoutFailing() {
    var config = LOADER.load("m.yaml", """
        model:
          hidden_size: 64
          blocks:
            a: {kind: transformer}
            b: {kind: ssm, variant: mamba1}
            c: {kind: ssm, variant: mamba2}
          block_pattern: [a, b, a]
          num_layers: 4
        """);
    assertThat(config.warnings()).extracting(Problem::render).containsExactly(
        "m.yaml:8:3: warning: model.num_layers: num_layers 4 is not a multiple of the pattern's length 3: the pattern"
            + " repeats 1 time and the last repetition stops after 'a' (block_pattern[0]), leaving out b, a",
        "m.yaml:6:5: warning: model.blocks.c: block 'c' is defined but not used in block_pattern");
    assertThat(config.plan().layers()).extracting(l -> l.blockName()).containsExactly("a", "b", "a", "a");
  }
}
