package org.fastllm.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.cli.Main;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * docs/migration.md quotes what {@code fastllm-cli migrate} prints for the legacy examples, and the committed
 * {@code .migrated.yaml} is what it writes; both are compared with a real run so the guide cannot drift.
 */
class MigrationGuideTest {
  static final Path GUIDE = Path.of("migration.md");

  record Run(int exit, String out, String err) {}

  static Run migrate(String example) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(new String[] {"migrate", "examples/" + example}, new PrintWriter(out, true),
        new PrintWriter(err, true));
    // The guide runs from the repository root; these tests run in docs/.
    return new Run(exit, out.toString(), err.toString().replace("examples/", "docs/examples/"));
  }

  /** The fenced block that follows {@code <!-- warnings: NAME -->} in the guide. */
  static String quotedWarnings(String example) throws IOException {
    String guide = Files.readString(GUIDE);
    String marker = "<!-- warnings: " + example + " -->";
    assertThat(guide).as("docs/migration.md has a block after %s", marker).contains(marker);
    String after = guide.substring(guide.indexOf(marker) + marker.length());
    int open = after.indexOf("```\n") + 4;
    return after.substring(open, after.indexOf("```", open));
  }

  @ParameterizedTest
  @ValueSource(strings = {"legacy-model-only.yaml", "legacy-fast-llm-hybrid.yaml"})
  void migrate_legacyExample_printsExactlyTheWarningsTheGuideQuotes(String example) throws IOException {
    Run r = migrate(example);

    assertThat(r.exit()).isZero();
    assertThat(r.err()).as("docs/migration.md quotes other warnings than migrate prints for " + example)
        .isEqualTo(quotedWarnings(example));
  }

  @ParameterizedTest
  @ValueSource(strings = {"legacy-model-only.yaml"})
  void migrate_legacyExample_writesTheCommittedMigratedFile(String example) throws IOException {
    Run r = migrate(example);

    Path migrated = Path.of("examples", example.replace(".yaml", ".migrated.yaml"));
    assertThat(r.out()).as("%s is stale: run java -jar cli/target/fastllm-cli.jar migrate docs/examples/%s -o docs/%s",
        migrated, example, migrated).isEqualTo(Files.readString(migrated));
  }
}
