package org.fastllm.modules.train;

import org.bytedeco.pytorch.Device;

/**
 * Times a run's steps and turns each step's outcome into its {@link StepReport}: throughput, elapsed time, the
 * estimate of the time left, the tokens seen, the device's peak memory; and keeps the first and last loss.
 *
 * <pre>{@code
 * // given StepClock clock, int done, OptimizerStep.Outcome outcome, double lr, Double validation
 * long started = clock.stepStarts();   // then the step runs
 * StepReport r = clock.report(done, outcome, lr, validation, started, 0);
 * }</pre>
 */
final class StepClock {
  private final int firstStep;
  private final int totalSteps;
  private final long tokensPerStep;
  private final Device device;
  private final long start = System.nanoTime();
  private double firstLoss = Double.NaN;
  private double lastLoss = Double.NaN;

  StepClock(int firstStep, int totalSteps, long tokensPerStep, Device device) {
    this.firstStep = firstStep;
    this.totalSteps = totalSteps;
    this.tokensPerStep = tokensPerStep;
    this.device = device;
  }

  /** The time a step starts, for {@link #report}. */
  long stepStarts() {
    return System.nanoTime();
  }

  /**
   * The report of step {@code done} (counted from 1), which started at {@code stepStart}; {@code graphBytes} of the
   * device's memory are held by a recorded graph's pool, which the allocator's peak does not count: they are added.
   */
  StepReport report(int done, OptimizerStep.Outcome outcome, double lr, Double validation, long stepStart,
      long graphBytes) {
    if (done == firstStep + 1) {
      firstLoss = outcome.loss();
    }
    lastLoss = outcome.loss();
    double elapsed = (System.nanoTime() - start) / 1e9;
    double stepSeconds = (System.nanoTime() - stepStart) / 1e9;
    double left = elapsed / (done - firstStep) * (totalSteps - done);
    return new StepReport(done, totalSteps, outcome.loss(), lr, outcome.gradNorm(), tokensPerStep / stepSeconds,
        validation, elapsed, left, (long) done * tokensPerStep, withGraph(DeviceMemory.peakSinceLastCall(device),
        graphBytes));
  }

  private static Long withGraph(Long peak, long graphBytes) {
    return peak == null ? null : peak + graphBytes;
  }

  long tokensPerStep() {
    return tokensPerStep;
  }

  double firstLoss() {
    return firstLoss;
  }

  double lastLoss() {
    return lastLoss;
  }

  /** Seconds since the clock was made. */
  double seconds() {
    return (System.nanoTime() - start) / 1e9;
  }
}
