package org.fastllm.modules.train;

/**
 * The loss or the gradient norm stopped being a finite number; the step was not applied, and the last checkpoint
 * (if any) is the last good state.
 */
public final class TrainingDivergedException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int step;

  public TrainingDivergedException(int step, String what, double value) {
    super("training stopped at step " + step + ": the " + what + " is " + value
        + " (lower optimizer.learning_rate, or set optimizer.grad_clip)");
    this.step = step;
  }

  public int step() {
    return step;
  }
}
