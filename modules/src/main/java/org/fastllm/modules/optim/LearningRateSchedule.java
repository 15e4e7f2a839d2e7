package org.fastllm.modules.optim;

import org.fastllm.dsl.config.LrSchedule;
import org.fastllm.dsl.config.OptimizerConfig;

/**
 * The learning rate at each optimizer step: linear warmup from 0, then cosine, linear or no decay down to the
 * minimum at the last step.
 *
 * <pre>{@code
 * // given OptimizerConfig optimizer
 * new LearningRateSchedule(optimizer, 300).at(0)  // learning_rate / warmup_steps, or learning_rate
 * }</pre>
 */
public record LearningRateSchedule(double peak, double minimum, int warmupSteps, LrSchedule shape, int totalSteps) {

  public LearningRateSchedule(OptimizerConfig resolved, int totalSteps) {
    this(resolved.learningRate(), Math.min(resolved.minLearningRate(), resolved.learningRate()),
        resolved.warmupSteps(), resolved.schedule(), totalSteps);
  }

  /** The rate of step {@code step}, counted from 0. */
  public double at(int step) {
    if (step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    int decaySteps = totalSteps - warmupSteps;
    if (shape == LrSchedule.CONSTANT || decaySteps <= 1) {
      return peak;
    }
    double progress = Math.min(1.0, (double) (step - warmupSteps) / (decaySteps - 1));
    double factor = shape == LrSchedule.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
    return minimum + (peak - minimum) * factor;
  }
}
