package org.fastllm.dsl.yaml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class YamlTreeReaderTest {
  private final YamlTreeReader reader = new YamlTreeReader();

  static String rendered(Runnable read) {
    try {
      read.run();
    } catch (InvalidConfigException e) {
      return e.problems().stream().map(Problem::render).reduce((a, b) -> a + "\n" + b).orElse("");
    }
    throw new AssertionError("expected the document to be rejected");
  }

  @Nested
  class Locations {
    @Test
    void read_nestedKeys_remembersLineAndColumnOfEachPath() {
      YamlDocument doc = reader.read("a.yaml", "model:\n  blocks:\n    bob: {kind: ssm}\n  block_pattern: [bob, bob]\n");

      assertThat(doc.sourceMap().exact("model.blocks.bob.kind")).hasValueSatisfying(l ->
          assertThat(l.toString()).isEqualTo("a.yaml:3:11"));
      assertThat(doc.sourceMap().exact("model.block_pattern[1]").orElseThrow().column()).isEqualTo(24);
    }

    @Test
    void locate_pathNotWritten_fallsBackToNearestWrittenParent() {
      YamlDocument doc = reader.read("a.yaml", "model:\n  blocks:\n    bob: {kind: ssm}\n");

      assertThat(doc.sourceMap().locate("model.blocks.bob.state_size").orElseThrow().line()).isEqualTo(3);
    }
  }

  @Nested
  class Limits {
    @Test
    void read_duplicateKey_namesBothLines() {
      assertThat(rendered(() -> reader.read("d.yaml", "model:\n  num_layers: 2\n  num_layers: 3\n")))
          .isEqualTo("d.yaml:3:3: model.num_layers: duplicate key 'num_layers' (first written at line 2)");
    }

    @Test
    void read_tooDeep_isRejectedWithTheLimit() {
      String deep = "a: " + "{b: ".repeat(70) + "1" + "}".repeat(70) + "\n";
      assertThat(rendered(() -> new YamlTreeReader(ReadLimits.DEFAULT.withMaxDepth(10)).read("n.yaml", "x: [[[[[[[[[[[[1]]]]]]]]]]]]\n")))
          .endsWith("nested deeper than 10 levels");
      assertThat(rendered(() -> reader.read("n.yaml", deep))).contains("nested deeper than 64 levels");
    }

    @Test
    void read_tooLarge_isRejectedBeforeParsing(@TempDir Path dir) throws Exception {
      Path big = dir.resolve("big.yaml");
      Files.writeString(big, "model:\n" + "# padding\n".repeat(500_000));

      assertThat(rendered(() -> reader.read(big)))
          .isEqualTo(big + ": document is 5000007 bytes, over the limit of 4194304 bytes");
    }

    @Test
    void read_aliasWithinLimit_expandsToACopy() {
      JsonNode root = reader.read("a.yaml", "base: &b {kind: ssm, variant: mamba1}\ncopy: *b\n").root();

      assertThat(root.get("copy")).isEqualTo(root.get("base"));
    }

    @Test
    void read_aliasBomb_isStoppedByTheValueLimit() {
      String bomb = """
          a: &a [x, x, x, x, x, x, x, x, x, x]
          b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
          c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
          d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
          e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
          f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
          g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
          """;
      assertThat(rendered(() -> reader.read("bomb.yaml", bomb)))
          .isEqualTo("bomb.yaml:6:36: f[7]: document expands to more than 1000000 values (aliases included)");
    }

    @Test
    void read_tooManyAliases_isRejected() {
      String many = "a: &a [1]\nb: [" + "*a, ".repeat(120) + "*a]\n";
      assertThat(rendered(() -> reader.read("m.yaml", many))).endsWith("more than 100 aliases in one document");
    }
  }

  @Nested
  class Scalars {
    @Test
    void read_yesNoOnOff_stayText() {
      JsonNode root = reader.read("b.yaml", "a: yes\nb: no\nc: on\nd: true\ne: False\n").root();

      assertThat(root.get("a").isTextual()).isTrue();
      assertThat(root.get("b").asText()).isEqualTo("no");
      assertThat(root.get("c").isTextual()).isTrue();
      assertThat(root.get("d").booleanValue()).isTrue();
      assertThat(root.get("e").isBoolean()).isTrue();
    }

    @Test
    void read_byteOrderMark_isSkipped() {
      assertThat(reader.read("bom.yaml", "\uFEFFmodel: {num_layers: 2}\n").root().at("/model/num_layers").asInt())
          .isEqualTo(2);
    }

    @Test
    void read_tabIndentation_isAYamlErrorWithItsLine() {
      assertThat(rendered(() -> reader.read("t.yaml", "model:\n\tnum_layers: 2\n")))
          .isEqualTo("t.yaml:2:1: (document): not valid YAML: while scanning for the next token; found character"
              + " '\\t(TAB)' that cannot start any token. (Do not use \\t(TAB) for indentation)");
    }

    @Test
    void read_emptyOrScalarDocument_saysWhatWasExpected() {
      assertThat(rendered(() -> reader.read("e.yaml", "")))
          .isEqualTo("e.yaml:1:1: (document): document is empty: expected a mapping with a 'model' section");
      assertThat(rendered(() -> reader.read("s.yaml", "just text\n")))
          .endsWith("(document): document is a single value ('just text'), expected a mapping of keys such as 'model:'");
    }

    @Test
    void read_binaryGarbage_isRejectedAsNotText() {
      assertThat(rendered(() -> reader.read("g.bin", "model\0\u0001\u0002")))
          .isEqualTo("g.bin:1:1: (document): document contains NUL bytes: this is not a YAML text file");
    }
  }
}
