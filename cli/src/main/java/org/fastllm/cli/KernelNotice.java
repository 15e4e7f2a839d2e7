package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.train.StepReport;
import org.fastllm.modules.train.Trainer;

/**
 * The run's kernels on stderr, once, before the first step's progress: every hand-written kernel the model or the
 * optimizer does not use named on a line of its own with the reason (what the first metrics line records under
 * {@code kernels}), so that no run is slower without saying so; one line naming them all when each is in use.
 *
 * <pre class="text">
 * kernel not used: norm, tensor operations (off in training.kernels)
 * kernel not used: scan, tensor operations (the input is not on a CUDA device (cpu))
 * </pre>
 */
final class KernelNotice implements Trainer.Listener {
  /** What the optimizer's features report when their kernels run: the fused update, the copies kept. */
  private static final Pattern IN_USE = Pattern.compile("fused|\\d+ tensors?|replayed .*|"
      + Pattern.quote(KernelReport.KERNEL));
  private final Supplier<Map<String, String>> kernels;
  private final PrintWriter err;
  private final Trainer.Listener next;
  private boolean told;

  /** Tells {@code kernels} (by key, what ran) on {@code err} at the first step, then passes each step to {@code next}. */
  KernelNotice(Supplier<Map<String, String>> kernels, PrintWriter err, Trainer.Listener next) {
    this.kernels = kernels;
    this.err = err;
    this.next = next;
  }

  @Override
  public void onStep(StepReport report) {
    if (!told) {
      told = true;
      lines(kernels.get()).forEach(err::println);
      err.flush();
    }
    next.onStep(report);
  }

  @Override
  public void onCheckpoint(Path folder) {
    next.onCheckpoint(folder);
  }

  /**
   * A line per kernel not used, or partly used (a call its kernel did not take), with what ran instead; or one line
   * naming all of them when each one ran; nothing when the run has none.
   */
  static List<String> lines(Map<String, String> kernels) {
    List<String> lines = new ArrayList<>();
    kernels.forEach((key, outcome) -> {
      if (!IN_USE.matcher(outcome).matches()) {
        lines.add("kernel not used: " + key + ", " + outcome);
      }
    });
    if (lines.isEmpty() && !kernels.isEmpty()) {
      lines.add("kernels: each in use (" + String.join(", ", kernels.keySet()) + ")");
    }
    return lines;
  }
}
