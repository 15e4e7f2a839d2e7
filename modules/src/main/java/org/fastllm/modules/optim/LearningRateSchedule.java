package org.fastllm.modules.optim;

import org.fastllm.dsl.config.LrSchedule;
import org.fastllm.dsl.config.OptimizerConfig;

/**
 * The learning rate at each optimizer step: linear warmup from 0, then cosine, linear or no decay down to the
 * minimum at the last step. A run resumed with another {@code training.steps} past the warmup follows a
 * {@link ScheduleSegment}: from the resume step, at the rate the earlier schedule had there, the same shape decays
 * to the minimum at the new last step.
 *
 * <pre>{@code
 * // given OptimizerConfig optimizer
 * double first = new LearningRateSchedule(optimizer, 300).at(0);  // learning_rate / warmup_steps, or learning_rate
 * ScheduleSegment longer = new LearningRateSchedule(optimizer, 300).resumedWith(200, 600);  // of a longer run
 * }</pre>
 *
 * @param segment the segment in effect; null or {@link ScheduleSegment#fromStart()} for the configured schedule
 */
public record LearningRateSchedule(double peak, double minimum, int warmupSteps, LrSchedule shape, int totalSteps,
    ScheduleSegment segment) {

  public LearningRateSchedule(double peak, double minimum, int warmupSteps, LrSchedule shape, int totalSteps) {
    this(peak, minimum, warmupSteps, shape, totalSteps, null);
  }

  public LearningRateSchedule(OptimizerConfig resolved, int totalSteps) {
    this(resolved, ScheduleSegment.whole(totalSteps));
  }

  /** The schedule of {@code resolved} following {@code segment} up to its total steps. */
  public LearningRateSchedule(OptimizerConfig resolved, ScheduleSegment segment) {
    this(resolved.learningRate(), Math.min(resolved.minLearningRate(), resolved.learningRate()),
        resolved.warmupSteps(), resolved.schedule(), segment.totalSteps(), segment);
  }

  /** The rate of step {@code step}, counted from 0. */
  public double at(int step) {
    if (segment != null && !segment.fromStart() && step >= segment.startStep()) {
      return continued(step);
    }
    if (step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    int decaySteps = totalSteps - warmupSteps;
    if (shape == LrSchedule.CONSTANT || decaySteps <= 1) {
      return peak;
    }
    return minimum + (peak - minimum) * factor((double) (step - warmupSteps) / (decaySteps - 1));
  }

  /** The segment in effect, the configured schedule over {@link #totalSteps()} when none was given. */
  public ScheduleSegment currentSegment() {
    return segment == null ? ScheduleSegment.whole(totalSteps) : segment;
  }

  /**
   * The segment a run resumed at {@code step} with {@code newTotal} steps follows: this one when the total is the
   * same; the configured schedule over {@code newTotal} while the warmup lasts; else one from {@code step} at this
   * schedule's rate there.
   */
  public ScheduleSegment resumedWith(long step, int newTotal) {
    if (newTotal == totalSteps) {
      return currentSegment();
    }
    if (step < warmupSteps) {
      return ScheduleSegment.whole(newTotal);
    }
    return new ScheduleSegment(step, at(Math.toIntExact(step)), newTotal);
  }

  private double continued(int step) {
    long remaining = totalSteps - 1 - segment.startStep();
    if (shape == LrSchedule.CONSTANT || remaining <= 0) {
      return segment.startRate();
    }
    return minimum + (segment.startRate() - minimum) * factor((double) (step - segment.startStep()) / remaining);
  }

  private double factor(double progress) {
    double clamped = Math.min(1.0, progress);
    return shape == LrSchedule.COSINE ? 0.5 * (1 + Math.cos(Math.PI * clamped)) : 1 - clamped;
  }
}
