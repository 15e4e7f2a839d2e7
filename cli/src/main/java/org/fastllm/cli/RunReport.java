package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.distributed.DistributedLaunch;
import org.fastllm.modules.train.StopRequest;
import org.fastllm.modules.train.Trainer;

/** What {@code train} tells the user around a run: the first line, the stop, the summary, the last good checkpoint. */
final class RunReport {
  private RunReport() {}

  static void banner(PrintWriter err, Trainer trainer, TrainingData data, DistributedLaunch launch) {
    err.println(String.format(Locale.ROOT, "training %,d parameters on %s (%s)%s, data %s: %,d training / %,d "
        + "held-out tokens", trainer.model().parameterCount(), trainer.deviceUsed().is_cuda() ? "cuda" : "cpu",
        trainer.bf16() ? "bf16 autocast" : "fp32", launch.distributed() ? " x " + launch.worldSize()
            + " processes" : "", data.source(), data.train().size(), data.validation().size()));
    err.flush();
  }

  /** The first signal: the run stops after the step in progress. */
  static void stopping(StopRequest stop, PrintWriter err) {
    stop.request();
    err.println();
    err.println("stopping after the current step, saving a checkpoint (a second signal stops at once)");
    err.flush();
  }

  /** A checkpoint that cannot be resumed: why, and the other checkpoints of its folder, newest first. */
  static int checkpointRefused(CheckpointException e, Path resume, PrintWriter err) {
    err.println("error: " + e.getMessage());
    try {
      List<Path> others = Checkpoint.others(Checkpoint.locate(resume));
      if (!others.isEmpty()) {
        err.println("other checkpoints: " + String.join(", ", others.stream().map(p -> p.getFileName().toString())
            .toList()) + "; resume the newest with --resume " + others.get(0));
      }
    } catch (CheckpointException noFolder) {
      // Nothing to suggest when not even the folder can be found.
    }
    return Main.INVALID;
  }

  static String lastGoodCheckpoint(ConfigDocument run) {
    Path checkpoints = Path.of(run.training().outputDir(), "checkpoints");
    if (!Files.exists(checkpoints.resolve(Checkpoint.LATEST))) {
      return "no checkpoint was saved before it";
    }
    try {
      return "the last good checkpoint is kept: " + Checkpoint.locate(checkpoints);
    } catch (CheckpointException e) {
      return "the last checkpoint cannot be found: " + e.getMessage();
    }
  }

  /**
   * The picture is a convenience: a host without font libraries (a headless GPU node) must not turn a finished run
   * into a failure, since the numbers are in metrics.jsonl.
   */
  static boolean drawLossCurve(Path metrics, Path png, PrintWriter err) {
    try {
      LossChart.write(metrics, png);
      return true;
    } catch (Exception | LinkageError e) {
      err.println("warning: could not draw " + png.getFileName() + " (" + e.getMessage() + "); the losses are in "
          + metrics);
      return false;
    }
  }

  static void summary(PrintWriter out, Trainer.Result r, Path metrics, Path png) {
    out.println(String.format(Locale.ROOT, "trained steps %d-%d of %d: %,d tokens in %s (%,.0f tokens/s)",
        r.firstStep() + 1, r.lastStep(), r.steps(), r.tokens(), ProgressBar.duration(r.seconds()),
        r.tokens() / Math.max(r.seconds(), 1e-9)));
    out.println(String.format(Locale.ROOT, "loss %.4f -> %.4f%s", r.firstLoss(), r.lastLoss(),
        r.bestValidationLoss() == null ? "" : String.format(Locale.ROOT, ", best validation loss %.4f",
            r.bestValidationLoss())));
    out.println("metrics    " + metrics);
    if (png != null) {
      out.println("loss curve " + png);
    }
    r.lastCheckpoint().ifPresent(c -> out.println("checkpoint " + c));
    if (r.stopped()) {
      out.println("stopped by a signal at step " + r.lastStep() + " of " + r.steps() + "; continue with: fastllm-cli "
          + "train --resume " + r.lastCheckpoint().map(Path::toString).orElse(r.output().toString()));
    }
  }
}
