package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's relative data path is kept absolute in the config its checkpoints hold, so a resume from another
 * working folder reads the same file; a resume with the same relative path sees no change.
 */
class DataPathsTest {
  @TempDir Path dir;

  @Test
  void train_relativeDataPath_isStoredResolvedAndTheSameRelativePathResumesWithoutAChange() throws IOException {
    // relative to the working directory, as a user writes it
    Path folder = Files.createDirectories(Path.of("target", "data-paths-" + ProcessHandle.current().pid()));
    Path corpus = Files.writeString(folder.resolve("corpus.txt"), "the quick brown fox jumps over the lazy dog. "
        .repeat(400));
    String relative = corpus.toString();
    Path run = dir.resolve("run");

    MainTest.Run first = MainTest.run("train", "training.output_dir=" + run, "training.steps=4",
        "checkpoint.interval=2", "data.path=" + relative);

    assertThat(first.exit()).as(first.err()).isZero();
    String saved = Files.readString(run.resolve("checkpoints/step-000004/config.yaml"));
    assertThat(saved).contains(corpus.toAbsolutePath().normalize().toString()).doesNotContain("path: " + relative);

    MainTest.Run resumed = MainTest.run("train", "--resume", run.resolve("checkpoints/step-000002").toString(),
        "training.output_dir=" + run, "training.steps=4", "checkpoint.interval=2", "data.path=" + relative);

    assertThat(resumed.exit()).as(resumed.err()).isZero();
    assertThat(resumed.err()).doesNotContain("data.path");
  }
}
