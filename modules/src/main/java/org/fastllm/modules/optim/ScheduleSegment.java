package org.fastllm.modules.optim;

/**
 * The part of a run's learning-rate schedule that a checkpoint carries, so that a resume with another
 * {@code training.steps} continues the rate instead of jumping.
 *
 * <p>A segment from step 0 is the configured schedule over {@code totalSteps} steps (its {@code startRate} is not
 * used). A segment from a later step starts there at {@code startRate} and decays along the configured shape to the
 * minimum at the last of {@code totalSteps} steps.
 *
 * <pre>{@code
 * new ScheduleSegment(300, 2.1e-4, 800)  // a run of 400 steps resumed at step 300 to train 800
 * }</pre>
 *
 * @param startStep the first step the segment rules, 0 for the whole run
 * @param startRate the rate of {@code startStep}
 * @param totalSteps the run's {@code training.steps} when the segment was made
 */
public record ScheduleSegment(long startStep, double startRate, int totalSteps) {

  /** The configured schedule over {@code totalSteps} steps. */
  public static ScheduleSegment whole(int totalSteps) {
    return new ScheduleSegment(0, 0, totalSteps);
  }

  /** Whether the segment is the configured schedule from step 0. */
  public boolean fromStart() {
    return startStep == 0;
  }
}
