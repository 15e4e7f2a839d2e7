package org.fastllm.modules.train;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.layer.Scopes;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.stack.LanguageModel;

/**
 * One optimizer step: the forward and backward passes of each micro-batch (on a GPU replayed from a recording,
 * {@link StepGraph}), the gradients averaged over the processes, clipped, checked and applied.
 *
 * <pre>{@code
 * // given OptimizerStep optimizerStep, LearningRateSchedule schedule, int step, long microBatches
 * OptimizerStep.Outcome o = optimizerStep.take(step, schedule.at(step), microBatches);   // o.loss(), o.gradNorm()
 * }</pre>
 *
 * <p><b>A non-finite loss or gradient norm throws {@link TrainingDivergedException} before the update</b>, so the
 * weights stay those of the last good step. Every tensor made in the step is freed in it.
 */
final class OptimizerStep {
  private final LanguageModel model;
  private final AdamW optimizer;
  private final BatchSampler sampler;
  private final Device device;
  private final GradientSync sync;
  private final int accumulation;
  private final double gradClip;
  private final StepGraph graph;

  /** The step's loss (the mean over its micro-batches and processes) and gradient norm before clipping. */
  record Outcome(double loss, double gradNorm) {}

  OptimizerStep(LanguageModel model, AdamW optimizer, BatchSampler sampler, Device device, GradientSync sync,
      int accumulation, double gradClip, StepGraph graph) {
    this.model = model;
    this.optimizer = optimizer;
    this.sampler = sampler;
    this.device = device;
    this.sync = sync;
    this.accumulation = accumulation;
    this.gradClip = gradClip;
    this.graph = graph;
  }

  /** Micro-batches each step draws. */
  int microBatches() {
    return accumulation;
  }

  /** Step {@code step} (from 0) at rate {@code lr}, drawing the micro-batches from index {@code firstMicroBatch}. */
  Outcome take(int step, double lr, long firstMicroBatch) {
    try (PointerScope scope = new PointerScope()) {
      Tensor lossSum = null;
      for (int a = 0; a < accumulation; a++) {
        long index = firstMicroBatch + a;
        // a micro-batch's forward is released before the next one runs
        Tensor detached = Scopes.scoped(() -> graph.lossAndGradients(sampler.batch(index, device)));
        lossSum = lossSum == null ? detached : lossSum.add(detached);
      }
      // Averaged before clipping, so every process clips and steps alike.
      optimizer.averageGradients(sync);
      Tensor meanLoss = sync.meanOverProcesses(lossSum.div(new Scalar((double) accumulation)));
      // One wait for the device per step: the loss and the gradient norm are read together.
      Tensor gradientNorm = optimizer.clipGradients(gradClip);
      Tensor both = torch.stack(new TensorVector(meanLoss, gradientNorm.to(torch.ScalarType.Double))).cpu();
      Outcome outcome = new Outcome(both.select(0, 0).item_double(), both.select(0, 1).item_double());
      if (!Double.isFinite(outcome.loss())) {
        throw new TrainingDivergedException(step + 1, "loss", outcome.loss());
      }
      if (!Double.isFinite(outcome.gradNorm())) {
        throw new TrainingDivergedException(step + 1, "gradient norm", outcome.gradNorm());
      }
      optimizer.step(lr);
      optimizer.zeroGradients();
      return outcome;
    }
  }
}
