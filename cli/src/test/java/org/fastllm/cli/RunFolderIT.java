package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 15, item 2: a run owns its folder. Each test is one row of the table. */
class RunFolderIT {
  @TempDir Path dir;

  private static String[] small(String... more) {
    return Stream.concat(Stream.of(TrainCommandIT.SMALL), Stream.of(more)).toArray(String[]::new);
  }

  @Test
  void train_twoProcessesOnOneOutputDir_theSecondIsRefusedNamingTheFirstsPid() throws Exception {
    Path output = dir.resolve("run");
    Path log = dir.resolve("first.log");
    Process first = child(dir, log, small("training.steps=100000", "checkpoint.interval=0",
        "training.output_dir=" + output));
    try {
      awaitLock(first, output, log);

      MainTest.Run second = TrainCommandIT.train(output, small("training.steps=2"));

      assertThat(second.exit()).isEqualTo(Main.INVALID);
      assertThat(second.err()).contains("error: " + output + ": in use by another run (PID " + first.pid()
          + " on host ").contains("— wait for it to finish or choose another training.output_dir");
      assertThat(second.out()).isEmpty();
    } finally {
      first.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    // Killed with SIGKILL, the first run left its lock file; the operating system released the lock itself.
    MainTest.Run after = MainTest.run(Stream.concat(Stream.of("train", "--overwrite", "training.output_dir=" + output),
        Stream.of(small("training.steps=2"))).toArray(String[]::new));

    assertThat(after.exit()).as(after.err()).isZero();
    assertThat(after.err()).contains("warning: " + output.resolve(RunFolder.LOCK) + ": taking over the lock of a run "
        + "that is no longer running (PID " + first.pid() + " on host ");
    assertThat(output.resolve(RunFolder.LOCK)).doesNotExist();
  }

  @Test
  void train_newRunIntoAnExistingOutputDir_isRefusedAndOverwritesNothing() throws IOException {
    Path output = dir.resolve("run");
    assertThat(TrainCommandIT.train(output, small("training.steps=2")).exit()).isZero();
    String metrics = Files.readString(output.resolve("metrics.jsonl"));

    MainTest.Run again = TrainCommandIT.train(output, small("training.steps=1"));

    assertThat(again.exit()).isEqualTo(Main.INVALID);
    assertThat(again.err()).isEqualTo("error: " + output + ": already holds a run (metrics.jsonl, checkpoints/ with "
        + "step-000002) — continue it with --resume " + output + ", replace it with --overwrite, or choose another "
        + "training.output_dir" + System.lineSeparator());
    assertThat(output.resolve("metrics.jsonl")).hasContent(metrics.strip());

    MainTest.Run overwritten = MainTest.run(Stream.concat(Stream.of("train", "--overwrite",
        "training.output_dir=" + output), Stream.of(small("training.steps=1"))).toArray(String[]::new));

    assertThat(overwritten.exit()).as(overwritten.err()).isZero();
    assertThat(Files.readAllLines(output.resolve("metrics.jsonl"))).hasSize(1);
    assertThat(output.resolve("checkpoints/step-000002")).doesNotExist();
    assertThat(output.resolve("checkpoints/step-000001")).isDirectory();
  }

  @Test
  void train_builtInRunTwiceInARow_theSecondMovesToAFreshFolderNamedOnItsFirstLine() throws Exception {
    Path firstLog = dir.resolve("first.log");
    Path secondLog = dir.resolve("second.log");
    Path work = Files.createDirectories(dir.resolve("work"));

    assertThat(child(work, firstLog, small("training.steps=1")).waitFor()).as(Files.readString(firstLog)).isZero();
    assertThat(child(work, secondLog, small("training.steps=1")).waitFor()).as(Files.readString(secondLog)).isZero();

    assertThat(Files.readAllLines(secondLog).get(0))
        .isEqualTo("fastllm-run holds another run; this run writes to fastllm-run-2");
    assertThat(Files.readAllLines(work.resolve("fastllm-run/metrics.jsonl"))).hasSize(1);
    assertThat(Files.readAllLines(work.resolve("fastllm-run-2/metrics.jsonl"))).hasSize(1);
    assertThat(Files.readString(work.resolve("fastllm-run-2/checkpoints/step-000001/config.yaml")))
        .contains("output_dir: fastllm-run-2");
  }

  @Test
  void train_unwritableOutputDirOrAFileWhereAFolderShouldBe_saysWhyBeforeStepOne() throws IOException {
    Path file = Files.writeString(dir.resolve("afile"), "x");
    Path run = Files.createDirectories(dir.resolve("run"));
    Files.writeString(run.resolve("checkpoints"), "x");

    MainTest.Run onAFile = TrainCommandIT.train(file, small("training.steps=1"));
    MainTest.Run atCheckpoints = TrainCommandIT.train(run, small("training.steps=1"));

    assertThat(onAFile.exit()).isEqualTo(Main.INVALID);
    assertThat(onAFile.err()).isEqualTo("error: " + file + ": is a file, not a folder — training.output_dir must be "
        + "a folder (choose another or remove the file)" + System.lineSeparator());
    assertThat(atCheckpoints.exit()).isEqualTo(Main.INVALID);
    assertThat(atCheckpoints.err()).isEqualTo("error: " + run.resolve("checkpoints") + ": is a file, where the run "
        + "keeps its checkpoints folder — remove or rename it" + System.lineSeparator());
    assertThat(run.resolve("metrics.jsonl")).doesNotExist();
  }

  private static Process child(Path workDir, Path log, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        Main.class.getName(), "train"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().put("OMP_NUM_THREADS", "1");
    return builder.start();
  }

  private static void awaitLock(Process child, Path output, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && child.isAlive()) {
      if (RunFolder.holder(output).isPresent()) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the child never locked " + output + ":\n" + Files.readString(log));
  }
}
