package org.fastllm.dsl.config;

import jakarta.validation.constraints.Min;

/**
 * The {@code training} section: how long, how big a step, where and in which precision.
 *
 * <pre>{@code
 * training: {steps: 300, batch_size: 8, sequence_length: 128, gradient_accumulation: 1, seed: 1234, device: auto}
 * }</pre>
 *
 * <p>One optimizer step sees {@code batch_size * gradient_accumulation} sequences of {@code sequence_length} tokens.
 *
 * @param logInterval steps between metrics lines (and progress lines when stderr is not a terminal)
 * @param evalInterval steps between held-out evaluations; 0 evaluates only at the end
 * @param outputDir where metrics, the loss curve and the {@code checkpoints} folder go
 */
public record TrainingConfig(
    @Min(value = 1, message = "must be at least 1") Integer steps,
    @Min(value = 1, message = "must be at least 1") Integer batchSize,
    @Min(value = 2, message = "must be at least 2") Integer sequenceLength,
    @Min(value = 1, message = "must be at least 1") Integer gradientAccumulation,
    Long seed,
    DeviceChoice device,
    Precision precision,
    @Min(value = 1, message = "must be at least 1") Integer logInterval,
    @Min(value = 0, message = "must be at least 0") Integer evalInterval,
    @Min(value = 1, message = "must be at least 1") Integer evalBatches,
    String outputDir) {

  public TrainingConfig withDefaults() {
    return new TrainingConfig(steps != null ? steps : 300, batchSize != null ? batchSize : 8,
        sequenceLength != null ? sequenceLength : 128, gradientAccumulation != null ? gradientAccumulation : 1,
        seed != null ? seed : 1234L, device != null ? device : DeviceChoice.AUTO,
        precision != null ? precision : Precision.AUTO, logInterval != null ? logInterval : 10,
        evalInterval != null ? evalInterval : 50, evalBatches != null ? evalBatches : 4,
        outputDir != null ? outputDir : "fastllm-run");
  }
}
