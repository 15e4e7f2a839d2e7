package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import org.fastllm.modules.train.StepReport;
import org.fastllm.modules.train.Trainer;

/**
 * Training progress on stderr: one line redrawn in place on a terminal, or a plain line every
 * {@code log_interval} steps (and at the last step) when stderr is a file or a pipe.
 *
 * <pre>{@code [##########----------] step 100/200  loss 2.4137  val 2.5012  3,120 tok/s  ETA 0:31}</pre>
 */
final class ProgressBar implements Trainer.Listener {
  private static final int WIDTH = 20;
  private final PrintWriter err;
  private final boolean terminal;
  private final int every;
  private Double lastValidation;

  ProgressBar(PrintWriter err, boolean terminal, int every) {
    this.err = err;
    this.terminal = terminal;
    this.every = every;
  }

  @Override
  public void onStep(StepReport r) {
    if (r.validationLoss() != null) {
      lastValidation = r.validationLoss();
    }
    if (terminal) {
      int filled = (int) ((long) WIDTH * r.step() / r.totalSteps());
      err.print("\r[" + "#".repeat(filled) + "-".repeat(WIDTH - filled) + "] " + line(r) + "   ");
      if (r.step() == r.totalSteps()) {
        err.println();
      }
      err.flush();
    } else if (r.step() % every == 0 || r.step() == r.totalSteps() || r.validationLoss() != null) {
      err.println(line(r));
      err.flush();
    }
  }

  @Override
  public void onCheckpoint(Path folder) {
    if (!terminal) {
      err.println("saved checkpoint " + folder);
      err.flush();
    }
  }

  private String line(StepReport r) {
    String validation = lastValidation == null ? "" : String.format(Locale.ROOT, "  val %.4f", lastValidation);
    String memory = r.devicePeakBytes() == null ? ""
        : String.format(Locale.ROOT, "  GPU %.1f GiB", r.devicePeakBytes() / 1073741824.0);
    return String.format(Locale.ROOT, "step %d/%d  loss %.4f%s  %,d tok/s%s  lr %.2e  ETA %s", r.step(),
        r.totalSteps(), r.loss(), validation, Math.round(r.tokensPerSecond()), memory, r.learningRate(),
        duration(r.secondsLeft()));
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
