package org.fastllm.modules.optim;

import java.util.Optional;

/**
 * What AdamW's bfloat16 weight copies need of a run: CUDA under bf16 autocast, one process, and no gradient
 * accumulation (over several micro-batches the copies' gradients would add up in bfloat16, where autocast adds the
 * weights' gradients in float32).
 *
 * <pre>{@code new CopyConditions(false, false, 1, 1).obstacle()   // Optional[the run is on the CPU]}</pre>
 *
 * @param bf16Autocast whether the model's forward runs under CUDA bf16 autocast ({@code training.precision})
 * @param processes the processes of a data-parallel run, 1 without
 */
public record CopyConditions(boolean cuda, boolean bf16Autocast, int processes, int gradientAccumulation) {

  /** Why copies cannot be kept in such a run (the first reason), or empty where they can. */
  public Optional<String> obstacle() {
    if (!cuda) {
      return Optional.of("the run is on the CPU");
    }
    if (!bf16Autocast) {
      return Optional.of("training.precision is fp32, so there is no bf16 autocast");
    }
    if (processes > 1) {
      return Optional.of("the run has " + processes + " processes");
    }
    if (gradientAccumulation > 1) {
      return Optional.of("training.gradient_accumulation is " + gradientAccumulation
          + ", and the copies' gradients would add up in bfloat16");
    }
    return Optional.empty();
  }
}
