package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import org.fastllm.dsl.Doc;

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
 * @param kernels which hand-written CUDA kernels run ({@link KernelsConfig})
 */
public record TrainingConfig(
    @Doc("optimizer steps")
    @Min(value = 1, message = "must be at least 1") Integer steps,
    @Doc("sequences per micro-batch")
    @Min(value = 1, message = "must be at least 1") Integer batchSize,
    @Doc("tokens per sequence")
    @Min(value = 2, message = "must be at least 2") Integer sequenceLength,
    @Doc("micro-batches per optimizer step")
    @Min(value = 1, message = "must be at least 1") Integer gradientAccumulation,
    @Doc("seed of initialisation, dropout and data order")
    Long seed,
    @Doc("cpu, cuda, or auto: the GPU when libtorch sees one")
    DeviceChoice device,
    @Doc("auto is bf16 autocast on CUDA and fp32 on the CPU; weights stay fp32")
    Precision precision,
    @Doc("steps between metrics lines (and progress lines when stderr is not a terminal)")
    @Min(value = 1, message = "must be at least 1") Integer logInterval,
    @Doc("steps between held-out evaluations; 0 evaluates only at the end")
    @Min(value = 0, message = "must be at least 0") Integer evalInterval,
    @Doc("batches per held-out evaluation")
    @Min(value = 1, message = "must be at least 1") Integer evalBatches,
    @Doc("where metrics.jsonl, loss.png and the checkpoints folder go")
    String outputDir,
    @Doc("which hand-written CUDA kernels run: each auto, on or off")
    @Valid KernelsConfig kernels) {

  public TrainingConfig withDefaults() {
    return new TrainingConfig(steps != null ? steps : 300, batchSize != null ? batchSize : 8,
        sequenceLength != null ? sequenceLength : 128, gradientAccumulation != null ? gradientAccumulation : 1,
        seed != null ? seed : 1234L, device != null ? device : DeviceChoice.AUTO,
        precision != null ? precision : Precision.AUTO, logInterval != null ? logInterval : 10,
        evalInterval != null ? evalInterval : 50, evalBatches != null ? evalBatches : 4,
        outputDir != null ? outputDir : "fastllm-run", (kernels != null ? kernels : KernelsConfig.DEFAULTS).withDefaults());
  }
}
