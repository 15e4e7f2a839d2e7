package org.fastllm.modules.checkpoint;

import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.optim.ScheduleSegment;

/**
 * Where a run stands after a step: what a checkpoint's {@code state.json} holds besides tensors.
 *
 * <pre>{@code
 * {"format_version": 2, "step": 20, "micro_batches": 40, "seed": 1234, "torch_rng": "...",
 *  "best_validation_loss": 2.51, "world_size": 1,
 *  "lr_schedule": {"start_step": 0, "start_rate": 0.0, "total_steps": 20}}
 * }</pre>
 *
 * @param step optimizer steps done
 * @param microBatches training micro-batches drawn: the data position ({@link BatchSampler} is indexed by it)
 * @param seed the run's seed, which with {@code microBatches} fixes every later batch
 * @param torchRng libtorch's CPU generator state, Base64
 * @param bestValidationLoss the lowest held-out loss so far, null when none was measured
 * @param worldSize the processes of the data-parallel run that saved it; null (older checkpoints) means 1
 * @param lrSchedule the learning-rate segment the run followed; null in older checkpoints, which followed the
 *     configured schedule over their {@code training.steps}
 */
public record TrainState(int formatVersion, long step, long microBatches, long seed, String torchRng,
    Double bestValidationLoss, Integer worldSize, ScheduleSegment lrSchedule) {

  /** The world size, 1 for a checkpoint saved before runs could have several processes. */
  public int processes() {
    return worldSize == null ? 1 : worldSize;
  }
}
