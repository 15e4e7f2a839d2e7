package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MainTest {
  static final Path MANY = Path.of("../docs/examples/seed-many-blocks.yaml");
  static final Path ONE = Path.of("../docs/examples/seed-one-block.yaml");

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(exit, out.toString(), err.toString());
  }

  /** The process entry turns JavaCPP's per-object memory check off, unless the user chose a setting. */
  @Nested
  class NativeDefaults {
    @Test
    void unset_turnsTheCheckOff_setByTheUser_isKept() {
      String before = System.getProperty(Main.MAX_PHYSICAL_BYTES);
      try {
        System.clearProperty(Main.MAX_PHYSICAL_BYTES);
        Main.nativeDefaults();
        assertThat(System.getProperty(Main.MAX_PHYSICAL_BYTES)).isEqualTo("0");
        System.setProperty(Main.MAX_PHYSICAL_BYTES, "8g");
        Main.nativeDefaults();
        assertThat(System.getProperty(Main.MAX_PHYSICAL_BYTES)).isEqualTo("8g");
      } finally {
        if (before == null) {
          System.clearProperty(Main.MAX_PHYSICAL_BYTES);
        } else {
          System.setProperty(Main.MAX_PHYSICAL_BYTES, before);
        }
      }
    }
  }

  /** {@code --version} names the build: the project's version and the commit it was built from. */
  @Nested
  class Version {
    @Test
    void version_printsTheProjectVersionAndTheCommit() throws Exception {
      Run r = run("--version");

      assertThat(r.exit()).isZero();
      String pom = Files.readString(Path.of("pom.xml"));
      String version = pom.replaceFirst("(?s).*?<parent>.*?<version>([^<]+)</version>.*", "$1");
      boolean checkout = Files.exists(Path.of("../.git"));
      assertThat(r.out().lines()).containsExactly("fastllm-cli " + version,
          checkout ? "commit " + gitHead() : "commit unknown");
    }

    @Test
    void lines_withoutACommit_sayUnknown() {
      assertThat(BuildVersion.lines("1.2.0", null)).containsExactly("fastllm-cli 1.2.0", "commit unknown");
      assertThat(BuildVersion.lines("1.2.0", "fatal: not a git repository (or any of the parent directories): .git\n"))
          .containsExactly("fastllm-cli 1.2.0", "commit unknown");
      assertThat(BuildVersion.lines(null, "804571f2c8d1e0b7a6f5e4d3c2b1a0f9e8d7c6b5\n"))
          .containsExactly("fastllm-cli unknown", "commit 804571f2c8d1e0b7a6f5e4d3c2b1a0f9e8d7c6b5");
    }

    private static String gitHead() throws Exception {
      Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
      String head = new String(git.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
      assertThat(git.waitFor()).as(head).isZero();
      return head;
    }
  }

  @Nested
  class Validate {
    @Test
    void validate_seedExamples_areValid() {
      Run r = run("validate", ONE.toString(), MANY.toString());

      assertThat(r.exit()).isZero();
      assertThat(r.out()).contains(MANY + ": valid (15 layers, 236,484,960 parameters)");
      assertThat(r.out()).contains(ONE + ": valid (48 layers, ");
    }

    @Test
    void validate_invalidConfig_exits2WithEveryProblemAndNoStackTrace(@TempDir Path dir) throws Exception {
      Path bad = dir.resolve("bad.yaml");
      Files.writeString(bad, "model:\n  blocks:\n    a: {kind: transformr}\n  block_pattern: [a, b]\n  num_layers: 0\n");

      Run r = run("validate", bad.toString());

      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err()).contains(bad + ":3:9: model.blocks.a.kind: unknown kind 'transformr'");
      assertThat(r.out()).contains(bad + ": invalid (1 error)");
      assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** Issue 15's last row: the unknown key and value hid the other two problems until they were fixed. */
    @Test
    void validate_unknownKeyAndEnumWithHeadGroupsAndZeroLayers_reportsAllFourAtOnce(@TempDir Path dir)
        throws Exception {
      Path bad = dir.resolve("bad.yaml");
      Files.writeString(bad, """
          model:
            hidden_size: 64
            blocks:
              a: {kind: transformer, attention_type: MHA, num_heads: 8, head_groups: 3, num_head: 4}
            block_pattern: [a]
            num_layers: 0
          """);

      Run r = run("validate", bad.toString());

      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err().lines()).containsExactly(
          bad + ":4:28: model.blocks.a.attention_type: unknown value 'MHA' (did you mean 'mha'?) (allowed: mha, mqa,"
              + " gqa)",
          bad + ":4:63: model.blocks.a.head_groups: must divide num_heads (8), got 3",
          bad + ":4:79: model.blocks.a.num_head: unknown key 'num_head' (did you mean 'num_heads'?)",
          bad + ":6:3: model.num_layers: must be at least 1, got 0");
      assertThat(r.out()).contains(bad + ": invalid (4 errors)");
    }

    /** Issue 15, table row 8: validate said valid and train crashed inside libtorch with native frames. */
    @Test
    void validate_sequenceLengthAboveMaxSequenceLengthWithLearnedPositions_exits2NamingBothKeys(@TempDir Path dir)
        throws Exception {
      Path bad = dir.resolve("bad.yaml");
      Files.writeString(bad, """
          model:
            hidden_size: 64
            blocks:
              a: {kind: transformer}
            block_pattern: [a]
            num_layers: 2
            max_sequence_length: 2048
            position_embeddings: true
          training: {steps: 5, sequence_length: 4096}
          """);

      Run r = run("validate", bad.toString());

      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err().lines()).containsExactly(bad + ":9:22: training.sequence_length: 4096 is above"
          + " model.max_sequence_length (2048), the length of the learned position embeddings; raise"
          + " max_sequence_length or shorten the sequences");
      assertThat(r.out()).contains(bad + ": invalid (1 error)");
    }

    /** Row 8 again: without a training section, train runs the default sequence length of 128. */
    @Test
    void train_defaultSequenceLengthAboveMaxSequenceLengthWithLearnedPositions_exits2BeforeAnyTensor(
        @TempDir Path dir) throws Exception {
      Path bad = dir.resolve("bad.yaml");
      Files.writeString(bad, """
          model:
            hidden_size: 64
            blocks:
              a: {kind: transformer}
            block_pattern: [a]
            num_layers: 2
            max_sequence_length: 64
            position_embeddings: true
          """);

      Run r = run("train", "--config", bad.toString(), "training.output_dir=" + dir.resolve("run"));

      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err()).contains("training.sequence_length: 128 is above model.max_sequence_length (64), the"
          + " length of the learned position embeddings; raise max_sequence_length or shorten the sequences");
      assertThat(r.err()).doesNotContain("\tat ");
      assertThat(dir.resolve("run")).doesNotExist();
    }

    /**
     * Row 7: a model too large for the CPU (here tens of terabytes, beyond any machine) is refused before any tensor
     * or file exists, with the estimate and the machine's memory; no libtorch message, no native frames.
     */
    @ParameterizedTest
    @ValueSource(strings = {"vocab_size: 2000000000\n  hidden_size: 4096\n  num_layers: 1",
        "hidden_size: 1024\n  num_layers: 100000"})
    void train_aModelTooLargeForTheCpu_isRefusedWithItsEstimateBeforeAnyTensor(String size, @TempDir Path dir)
        throws Exception {
      Path huge = dir.resolve("huge.yaml");
      Files.writeString(huge, "model:\n  " + size + """

            blocks:
              a: {kind: transformer, num_heads: 8}
            block_pattern: [a]
          training: {device: cpu}
          """);

      Run r = run("train", "--config", huge.toString(), "training.output_dir=" + dir.resolve("run"));

      assertThat(r.exit()).as(r.err()).isEqualTo(2);
      assertThat(r.err()).containsPattern("error: the run needs about [0-9,]+ GiB \\(a rough estimate\\): parameters"
          + " [0-9,.]+ GiB \\(fp32\\), gradients .* at batch 8 x sequence 128, more than this machine's [0-9,.]+ GiB of"
          + " memory; make the model, the batch or the sequence smaller, or train on a GPU")
          .doesNotContain("frame #", "Exception raised from", "internal error", "\tat ");
      assertThat(dir.resolve("run")).doesNotExist();
    }

    @Test
    void validate_binaryGarbageAndMissingFile_exit2WithAMessage(@TempDir Path dir) throws Exception {
      Path garbage = dir.resolve("garbage.yaml");
      Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1, 2, 3});

      Run r = run("validate", garbage.toString(), dir.resolve("missing.yaml").toString());

      assertThat(r.exit()).isEqualTo(2);
      assertThat(r.err()).contains(garbage + ": file is not UTF-8 text");
      assertThat(r.err()).contains("missing.yaml: file not found");
      assertThat(r.err()).doesNotContain("\tat ");
    }
  }

  @Nested
  class Describe {
    @Test
    void describe_manyBlocks_showsFifteenLayersAndBobSharedOnce() {
      Run r = run("describe", MANY.toString());

      assertThat(r.exit()).isZero();
      assertThat(r.out()).contains("15 layers, hidden 1024, vocab 49152");
      assertThat(r.out()).contains("bob: one parameter set used at layers 1, 4, 6, 9, 11, 14");
      assertThat(r.out().lines().filter(l -> l.matches("\\s+\\d+ bob\\s+transformer yes.*"))).hasSize(6);
      assertThat(r.out()).containsPattern("total\\s+236,484,960 \\(236.5M\\)");
    }

    @Test
    void describe_manyBlocks_showsTheTrainingMemoryEstimateInTextAndJson() throws Exception {
      Run r = run("describe", MANY.toString());

      assertThat(r.out()).contains("Training memory: about 5.02 GiB (a rough estimate): parameters 0.88 GiB (fp32),"
          + " gradients 0.88 GiB, AdamW moments 1.76 GiB, activations 1.50 GiB at batch 8 x sequence 128");
      JsonNode memory = new ObjectMapper().readTree(run("describe", "--json", MANY.toString()).out())
          .get("training_memory");
      assertThat(memory.get("parameters").asDouble()).isEqualTo(4.0 * 236_484_960);
      assertThat(memory.get("optimizer").asDouble()).isEqualTo(8.0 * 236_484_960);
    }

    @Test
    void describeJson_manyBlocks_isDataWithTheSameCounts() throws Exception {
      JsonNode json = new ObjectMapper().readTree(run("describe", "--json", MANY.toString()).out());

      assertThat(json.get("num_layers").asInt()).isEqualTo(15);
      assertThat(json.get("layers")).hasSize(15);
      JsonNode bob = json.get("blocks").get(1);
      assertThat(bob.get("name").asText()).isEqualTo("bob");
      assertThat(bob.get("positions").toString()).isEqualTo("[1,4,6,9,11,14]");
      assertThat(bob.get("unique").asLong()).isEqualTo(bob.get("per_use").asLong());
      assertThat(json.at("/totals/total").asLong()).isEqualTo(236_484_960L);
    }

    @Test
    void describeResolved_readsBackToTheSameResolvedConfig(@TempDir Path dir) throws Exception {
      Path dumped = dir.resolve("resolved.yaml");
      Files.writeString(dumped, run("describe", "--resolved", MANY.toString()).out());

      ConfigLoader loader = ConfigLoader.standard();
      assertThat(loader.load(dumped).resolved()).isEqualTo(loader.load(MANY).resolved());
      assertThat(loader.load(dumped).written()).isEqualTo(loader.load(MANY).resolved());
      assertThat(run("describe", "--resolved", dumped.toString()).out())
          .isEqualTo(run("describe", "--resolved", MANY.toString()).out());
    }
  }

  @Nested
  class Migrate {
    static final Path LEGACY = Path.of("../docs/examples/legacy-fast-llm-hybrid.yaml");

    @Test
    void migrate_legacyFile_writesANewFormatFileWithTheSameStackAndCounts(@TempDir Path dir) {
      Path migrated = dir.resolve("new.yaml");

      Run r = run("migrate", LEGACY.toString(), "-o", migrated.toString());

      assertThat(r.exit()).isZero();
      assertThat(r.err()).contains("warning: model.base_model.transformer: the global 'transformer' section is"
          + " deprecated; write per-block configs under model.blocks (kind: transformer)");
      ConfigLoader loader = ConfigLoader.standard();
      var before = loader.load(LEGACY);
      var after = loader.load(migrated);
      assertThat(before.legacy()).isTrue();
      assertThat(after.legacy()).isFalse();
      assertThat(after.warnings()).isEmpty();
      assertThat(after.count()).isEqualTo(before.count());
      assertThat(after.plan().layers()).isEqualTo(before.plan().layers());
    }

    @Test
    void validate_legacyFileThatBreaksARule_givesEachDeprecationWarningOnce(@TempDir Path dir) throws Exception {
      Path broken = dir.resolve("broken.yaml");
      Files.writeString(broken, Files.readString(LEGACY).replaceFirst("num_attention_heads: \\d+",
          "num_attention_heads: 5"));

      Run r = run("validate", broken.toString());

      assertThat(r.exit()).isEqualTo(2);
      String warning = "model.base_model.transformer: the global 'transformer' section is deprecated";
      assertThat(r.err().split(java.util.regex.Pattern.quote(warning), -1)).as(r.err()).hasSize(2);
    }
  }

  @Nested
  class Schema {
    @Test
    void schema_listsEveryInstalledKindWithItsKeys() throws Exception {
      JsonNode schema = new ObjectMapper().readTree(run("schema").out());

      assertThat(schema.at("/$defs/block/oneOf")).hasSize(3);
      assertThat(schema.at("/$defs/block_transformer/properties/attention_type/enum").toString())
          .isEqualTo("[\"mha\",\"mqa\",\"gqa\"]");
      assertThat(schema.at("/$defs/block_ssm/required").toString()).isEqualTo("[\"kind\",\"variant\"]");
      assertThat(schema.at("/$defs/block_gated_conv/properties/kernel_size/maximum").asInt()).isEqualTo(1024);
      assertThat(schema.at("/properties/model/properties/num_layers/type").asText()).isEqualTo("integer");
    }
  }

  @Nested
  class Usage {
    @ParameterizedTest
    @ValueSource(strings = {"validate", "describe", "migrate", "schema"})
    void help_everyCommand_printsUsageAndExits0(String command) {
      Run r = run(command, "--help");

      assertThat(r.exit()).isZero();
      assertThat(r.out()).startsWith("Usage: fastllm-cli " + command);
    }

    @Test
    void unknownCommandOrMissingFile_exit2() {
      assertThat(run("frobnicate").exit()).isEqualTo(2);
      assertThat(run("describe").exit()).isEqualTo(2);
      assertThat(run("describe").err()).contains("Missing required parameter: 'FILE'");
    }
  }
}
