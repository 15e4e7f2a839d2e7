package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --dry-run}: the checks and the plan of a run, with nothing built or written. */
class DryRunTest {
  @TempDir Path dir;

  @Test
  void dryRun_theBuiltInRun_printsTheEstimateAndThePlanAndCreatesNoFolder() {
    Path run = dir.resolve("run");

    MainTest.Run r = MainTest.run("train", "--dry-run", "--device", "cpu", "training.output_dir=" + run,
        "training.steps=7");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).containsPattern("training memory: about [0-9.]+ GiB \\(a rough estimate\\): parameters .* at "
        + "batch \\d+ x sequence \\d+");
    assertThat(r.out()).contains("device: cpu (training.device cpu), 1 process", "steps: 7 (from step 0)",
        "output folder: " + run);
    assertThat(run).doesNotExist();
    assertThat(dir).isEmptyDirectory();
    assertThat(r.out()).doesNotContain("device memory:");
  }

  @Test
  void dryRun_aModelTooLargeForTheCpu_isRefusedAsTrainRefusesIt() throws Exception {
    Path huge = dir.resolve("huge.yaml");
    Files.writeString(huge, """
        model:
          hidden_size: 1024
          num_layers: 100000
          blocks:
            a: {kind: transformer, num_heads: 8}
          block_pattern: [a]
        training: {device: cpu}
        """);

    MainTest.Run dry = MainTest.run("train", "--dry-run", "--config", huge.toString(),
        "training.output_dir=" + dir.resolve("run"));
    MainTest.Run train = MainTest.run("train", "--config", huge.toString(),
        "training.output_dir=" + dir.resolve("run"));

    assertThat(dry.exit()).as(dry.err()).isEqualTo(Main.INVALID);
    assertThat(dry.err()).startsWith("error: the run needs about ").isEqualTo(train.err());
    assertThat(dry.out()).isEmpty();
    assertThat(dir.resolve("run")).doesNotExist();
  }

  @Test
  void dryRun_aNamedFolderHoldingARun_isRefusedAndLeftAsItWas() throws Exception {
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(run.resolve("metrics.jsonl"), "{}\n");

    MainTest.Run r = MainTest.run("train", "--dry-run", "--device", "cpu", "training.output_dir=" + run);

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: " + run + ": already holds a run (metrics.jsonl)", "--overwrite");
    try (var files = Files.list(run)) {
      assertThat(files).containsExactly(run.resolve("metrics.jsonl"));
    }
  }

  @Test
  void dryRun_nproc_estimatesOneProcessWithItsShareOfTheBatchAndRefusesABatchItCannotShare() {
    Path run = dir.resolve("run");

    MainTest.Run two = MainTest.run("train", "--dry-run", "--nproc", "2", "--device", "cpu",
        "training.output_dir=" + run, "training.batch_size=8");
    MainTest.Run three = MainTest.run("train", "--dry-run", "--nproc", "3", "--device", "cpu",
        "training.output_dir=" + run, "training.batch_size=8");

    assertThat(two.exit()).as(two.err()).isZero();
    assertThat(two.out()).containsPattern("at batch 4 x sequence \\d+ per process").contains("2 processes");
    assertThat(three.exit()).isEqualTo(Main.INVALID);
    assertThat(three.err()).contains("training.batch_size is 8, which 3 processes cannot share");
    assertThat(run).doesNotExist();
  }
}
