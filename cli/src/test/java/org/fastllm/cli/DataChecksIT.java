package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a process prints beside the cli's own lines, so it is seen in a child JVM rather than in-process. */
class DataChecksIT {
  @TempDir Path dir;

  /**
   * The tokenizers library logs through slf4j-api; without a binding every run printed three "No SLF4J providers
   * were found" lines. This tokenizer.json gets as far as the library, which refuses its model type.
   */
  @Test
  void train_tokenizerJson_printsNoSlf4jWarnings() throws Exception {
    Path text = Files.writeString(dir.resolve("corpus.txt"), "the river wakes. ".repeat(100));
    Path tokenizer = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"NoSuchModel\"}}");
    Path log = dir.resolve("child.log");
    Process child = new ProcessBuilder(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "train", "training.output_dir=" + dir.resolve("run"), "data.path=" + text, "data.tokenizer=" + tokenizer))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();

    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String output = Files.readString(log);
    assertThat(child.exitValue()).as(output).isEqualTo(Main.INVALID);
    assertThat(output).startsWith("error: data.tokenizer: " + tokenizer + ": not a valid Hugging Face tokenizer.json (")
        .doesNotContain("SLF4J");
    assertThat(output.lines()).hasSize(1);
  }
}
