package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A training child JVM is killed (SIGKILL) {@value #KILLS} times in a row at random moments and resumed each time
 * from its last checkpoint; a final resume runs to the end and must give, step for step, the losses of a run that
 * was never interrupted. Every fifth kill waits inside a save ({@link SaveFaults#stall}) so some kills surely land there; the
 * random ones land in saves too, since a save follows every step. Kill 1 comes right after the resume, before the
 * first step is logged: the window where {@code metrics.jsonl} used to lose its history (regression).
 */
class CrashResumeIT {
  static final int KILLS = 20;
  static final int STEPS = 200;
  static final int MAX_DELAY_MS = 300;
  @TempDir Path dir;

  @Test
  void train_killedTwentyTimesAndResumed_endsWithTheUninterruptedLosses() throws Exception {
    Path config = TrainProcesses.tinyRun(dir.resolve("tiny.yaml"), STEPS, 2, "{interval: 1, keep: 2}");
    Path reference = dir.resolve("reference");
    Process uninterrupted = TrainProcesses.train(dir.resolve("reference.log"), null, "--config", config.toString(),
        "training.output_dir=" + reference);

    Path output = dir.resolve("crashed");
    Path checkpoints = output.resolve("checkpoints");
    Random random = new Random(20_240_605L);
    int inSave = 0;
    long previous = -1;
    for (int kill = 0; kill < KILLS; kill++) {
      Path log = dir.resolve("child-" + kill + ".log");
      boolean hooked = kill % 5 == 4;
      String hook = hooked ? SaveFaults.stallArgument(previous + 2, 60_000) : null;
      // killed before its first checkpoint, a run is started again; its folder may hold a metrics line already
      Process child = previous < 0 && kill == 0
          ? TrainProcesses.train(log, hook, "--config", config.toString(), "training.output_dir=" + output)
          : previous < 0
              ? TrainProcesses.train(log, hook, "--config", config.toString(), "training.output_dir=" + output,
                  "--overwrite")
              : TrainProcesses.train(log, hook, "--resume", output.toString());
      awaitLine(child, log, "training ");
      if (hooked) {
        awaitSaveInProgress(child, checkpoints, previous + 2, log);
      } else {
        Thread.sleep(kill == 1 ? 0 : random.nextInt(MAX_DELAY_MS));
      }
      assertThat(child.isAlive()).as("child %d finished before its kill: raise STEPS", kill).isTrue();
      child.destroyForcibly().waitFor();

      String said = Files.readString(log);
      if (previous >= 0) {
        assertThat(said).as("kill %d", kill).contains("resuming from " + checkpoints.resolve(name(previous))
            + " at step " + previous + "\n");
      }
      long now = lastGoodStep(checkpoints);
      assertThat(now).as("kill %d: the last good checkpoint never goes back", kill).isGreaterThanOrEqualTo(previous);
      inSave += saveInProgress(checkpoints) ? 1 : 0;
      previous = now;
    }

    Path lastLog = dir.resolve("final.log");
    Process last = TrainProcesses.train(lastLog, null, "--resume", output.toString());
    assertThat(last.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(uninterrupted.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(uninterrupted.exitValue()).as(Files.readString(dir.resolve("reference.log"))).isZero();
    assertThat(last.exitValue()).as(Files.readString(lastLog)).isZero();
    assertThat(Files.readString(lastLog)).contains("trained steps " + (previous + 1) + "-" + STEPS + " of " + STEPS);
    List<String> expected = TrainProcesses.losses(reference.resolve("metrics.jsonl"));
    assertThat(expected).hasSize(STEPS);
    assertThat(TrainProcesses.losses(output.resolve("metrics.jsonl"))).isEqualTo(expected);
    System.out.printf("CrashResumeIT: %d kills, %d left a save in progress (%d by the hook), resumed to step %d "
        + "of %d before the final run%n", KILLS, inSave, KILLS / 5, previous, STEPS);
  }



  private static void awaitLine(Process child, Path log, String start) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && child.isAlive()) {
      if (Files.exists(log) && Files.readAllLines(log).stream().anyMatch(l -> l.startsWith(start))) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("no line starting '" + start + "' from the child:\n" + Files.readString(log));
  }

  private static void awaitSaveInProgress(Process child, Path checkpoints, long step, Path log) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline && child.isAlive()) {
      try (Stream<Path> entries = Files.list(checkpoints)) {
        if (entries.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-" + name(step))
            && Files.exists(p.resolve("optimizer.safetensors")))) {
          return;
        }
      }
      Thread.sleep(10);
    }
    throw new AssertionError("the child never paused in the save of step " + step + ":\n" + Files.readString(log));
  }

  /** The step of the checkpoint 'latest' names, after loading it whole (every checksum); -1 before the first save. */
  private static long lastGoodStep(Path checkpoints) {
    return Files.exists(checkpoints.resolve(Checkpoint.LATEST)) ? Checkpoint.load(checkpoints).state().step() : -1;
  }

  /** Regression: a kill before the first save leaves no checkpoints folder at all, and that is no save in progress. */
  private static boolean saveInProgress(Path checkpoints) throws IOException {
    if (!Files.isDirectory(checkpoints)) {
      return false;
    }
    try (Stream<Path> entries = Files.list(checkpoints)) {
      return entries.anyMatch(p -> p.getFileName().toString().startsWith(".tmp-step-"));
    }
  }

  private static String name(long step) {
    return String.format("step-%06d", step);
  }
}
