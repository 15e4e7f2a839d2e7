package org.fastllm.dsl.config;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Positive;
import org.fastllm.dsl.Doc;

/**
 * The {@code optimizer} section: AdamW with warmup, then cosine, linear or no decay.
 *
 * <pre>{@code
 * optimizer: {learning_rate: 3.0e-3, warmup_steps: 20, schedule: cosine, weight_decay: 0.1, grad_clip: 1.0}
 * }</pre>
 *
 * <p>Weight decay never touches norms and biases; a block's {@code lr_scale} multiplies the rate of its tensors.
 *
 * @param gradClip the largest global gradient norm; 0 turns clipping off
 */
public record OptimizerConfig(
    @Doc("peak learning rate, reached at the end of warmup")
    @Positive(message = "must be greater than 0") Double learningRate,
    @Doc(value = "learning rate at the last step", defaultValue = "learning_rate / 10")
    @DecimalMin(value = "0.0", message = "must be at least 0") Double minLearningRate,
    @Doc("steps of linear warmup from 0")
    @Min(value = 0, message = "must be at least 0") Integer warmupSteps,
    @Doc("decay after warmup")
    LrSchedule schedule,
    @Doc("AdamW decoupled weight decay; never on norms and biases")
    @DecimalMin(value = "0.0", message = "must be at least 0") Double weightDecay,
    @DecimalMin(value = "0.0", message = "must be at least 0")
    @Doc("AdamW first-moment decay")
    @DecimalMax(value = "1.0", inclusive = false, message = "must be below 1") Double beta1,
    @DecimalMin(value = "0.0", message = "must be at least 0")
    @Doc("AdamW second-moment decay")
    @DecimalMax(value = "1.0", inclusive = false, message = "must be below 1") Double beta2,
    @Doc("AdamW denominator epsilon")
    @Positive(message = "must be greater than 0") Double epsilon,
    @Doc("largest global gradient norm; 0 turns clipping off")
    @DecimalMin(value = "0.0", message = "must be at least 0 (0 turns clipping off)") Double gradClip) {

  public OptimizerConfig withDefaults() {
    double lr = learningRate != null ? learningRate : 1e-3;
    return new OptimizerConfig(lr, minLearningRate != null ? minLearningRate : lr / 10,
        warmupSteps != null ? warmupSteps : 0, schedule != null ? schedule : LrSchedule.COSINE,
        weightDecay != null ? weightDecay : 0.1, beta1 != null ? beta1 : 0.9, beta2 != null ? beta2 : 0.95,
        epsilon != null ? epsilon : 1e-8, gradClip != null ? gradClip : 1.0);
  }
}
