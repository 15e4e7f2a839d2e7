package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT to a {@code train} child JVM (and to the {@code --nproc} launcher): the step in progress
 * finishes, its checkpoint is saved although {@code checkpoint.interval} is 0, the summary says where, the exit code
 * is {@link Main#STOPPED}, and {@code --resume} gives the losses of a run never stopped. A second signal stops at once.
 */
class StopOnSignalIT {
  static final int STEPS = 300;
  static final Pattern STOPPED = Pattern.compile("stopped by a signal at step (\\d+) of " + STEPS);
  @TempDir Path dir;

  Path config() throws IOException {
    return TrainProcesses.tinyRun(dir.resolve("tiny.yaml"), STEPS, 4, "{interval: 0}");
  }

  @Test
  void train_sigtermDuringRun_savesACheckpointAndResumesExactly() throws Exception {
    Path config = config();
    Path reference = dir.resolve("reference");
    Process uninterrupted = TrainProcesses.train(dir.resolve("reference.log"), null, "--config", config.toString(),
        "training.output_dir=" + reference);
    Path output = dir.resolve("stopped");
    Path log = dir.resolve("stopped.log");
    Process stopped = TrainProcesses.train(log, null, "--config", config.toString(), "training.output_dir=" + output);

    awaitSteps(stopped, output, 3, log);
    stopped.destroy();
    assertThat(stopped.waitFor(60, TimeUnit.SECONDS)).isTrue();

    String said = Files.readString(log);
    assertThat(stopped.exitValue()).as(said).isEqualTo(Main.STOPPED);
    long step = stoppedStep(said);
    Path checkpoint = output.resolve(String.format("checkpoints/step-%06d", step));
    assertThat(said).contains("stopping after the current step, saving a checkpoint")
        .contains("trained steps 1-" + step + " of " + STEPS)
        .contains("checkpoint " + checkpoint + "\n")
        .contains("continue with: fastllm-cli train --resume " + checkpoint)
        .doesNotContain("sample greedy");
    assertThat(Checkpoint.load(output.resolve("checkpoints")).state().step()).isEqualTo(step);

    Path resumedLog = dir.resolve("resumed.log");
    Process resumed = TrainProcesses.train(resumedLog, null, "--resume", output.toString());
    assertThat(resumed.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(uninterrupted.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(resumed.exitValue()).as(Files.readString(resumedLog)).isZero();
    assertThat(uninterrupted.exitValue()).as(Files.readString(dir.resolve("reference.log"))).isZero();
    assertThat(Files.readString(resumedLog)).contains("trained steps " + (step + 1) + "-" + STEPS + " of " + STEPS)
        .contains("sample greedy   \"");
    List<String> expected = TrainProcesses.losses(reference.resolve("metrics.jsonl"));
    assertThat(expected).hasSize(STEPS);
    assertThat(TrainProcesses.losses(output.resolve("metrics.jsonl"))).isEqualTo(expected);
  }

  @Test
  void train_ctrlCDuringRun_savesACheckpointAndExitsWithStopped() throws Exception {
    Path output = dir.resolve("run");
    Path log = dir.resolve("run.log");
    Process child = TrainProcesses.train(log, null, "--config", config().toString(), "training.output_dir=" + output);
    awaitSteps(child, output, 2, log);
    assumeThat(ignoresSigint(child)).as("SIGINT is ignored by this child (started in the background)").isFalse();

    signal("INT", child);
    assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();

    String said = Files.readString(log);
    assertThat(child.exitValue()).as(said).isEqualTo(Main.STOPPED);
    assertThat(Checkpoint.load(output.resolve("checkpoints")).state().step()).isEqualTo(stoppedStep(said));
  }

  @Test
  void train_secondSignalDuringTheStop_stopsAtOnce() throws Exception {
    Path output = dir.resolve("run");
    Path log = dir.resolve("run.log");
    Process child = TrainProcesses.train(log, "stall-every=60000", "--config", config().toString(),
        "training.output_dir=" + output);
    awaitSteps(child, output, 2, log);
    child.destroy();
    awaitSaveInProgress(child, output.resolve("checkpoints"), log);
    Thread.sleep(1200);

    long second = System.nanoTime();
    child.destroy();
    assertThat(child.waitFor(20, TimeUnit.SECONDS)).isTrue();

    assertThat(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - second)).isLessThan(10);
    assertThat(child.exitValue()).as(Files.readString(log)).isEqualTo(128 + 15);
    assertThat(Files.readString(log)).contains("stopped at once by a second signal");
    assertThat(output.resolve("checkpoints").resolve(Checkpoint.LATEST)).doesNotExist();
  }

  @Test
  void train_sigtermToTheNprocLauncher_stopsEveryWorkerAndRankZeroSaves() throws Exception {
    Path output = dir.resolve("run");
    Path log = dir.resolve("launcher.log");
    Process launcher = TrainProcesses.train(log, null, "--config", config().toString(), "training.output_dir=" + output,
        "--nproc", "2");
    awaitSteps(launcher, output, 2, log);
    List<ProcessHandle> workers = launcher.descendants().toList();
    assertThat(workers).hasSizeGreaterThanOrEqualTo(2);

    launcher.destroy();
    assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();

    String said = Files.readString(log);
    assertThat(launcher.exitValue()).as(said).isEqualTo(Main.STOPPED);
    assertThat(workers).noneMatch(ProcessHandle::isAlive);
    assertThat(Checkpoint.load(output.resolve("checkpoints")).state().step()).isEqualTo(stoppedStep(said));
    assertThat(Checkpoint.load(output.resolve("checkpoints")).state().processes()).isEqualTo(2);
  }

  private static long stoppedStep(String said) {
    Matcher m = STOPPED.matcher(said);
    assertThat(m.find()).as(said).isTrue();
    return Long.parseLong(m.group(1));
  }

  private static void signal(String name, Process child) throws Exception {
    assertThat(new ProcessBuilder("kill", "-" + name, Long.toString(child.pid())).start().waitFor()).isZero();
  }

  /** Bit 2 of the SigIgn mask: a child started from a shell's background job inherits SIGINT ignored. */
  private static boolean ignoresSigint(Process child) throws IOException {
    Path status = Path.of("/proc", Long.toString(child.pid()), "status");
    if (!Files.exists(status)) {
      return false;
    }
    return Files.readAllLines(status).stream().filter(l -> l.startsWith("SigIgn:"))
        .anyMatch(l -> (Long.parseLong(l.substring(7).trim(), 16) & 2) != 0);
  }



  private static void awaitSteps(Process child, Path output, int steps, Path log) throws Exception {
    Path metrics = output.resolve("metrics.jsonl");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && child.isAlive()) {
      if (Files.exists(metrics) && Files.readAllLines(metrics).size() >= steps) {
        return;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("the child never logged " + steps + " steps:\n" + Files.readString(log));
  }

  private static void awaitSaveInProgress(Process child, Path checkpoints, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && child.isAlive()) {
      if (Files.isDirectory(checkpoints)) {
        try (Stream<Path> entries = Files.list(checkpoints)) {
          if (entries.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-step-"))) {
            return;
          }
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the child never began the stop's save:\n" + Files.readString(log));
  }
}
