package org.fastllm.modules.train;

import java.util.Optional;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The held-out loss, when it is due: every {@code training.eval_interval} steps and at the last step, over the same
 * {@code eval_batches} batches each time; never where the held-out split is shorter than one sequence. The model
 * is evaluated in eval mode (dropout off) and without gradients, then is back in the mode it was in.
 *
 * <pre>{@code
 * // given Evaluation evaluation, int done
 * Double validation = evaluation.ifDue(done);   // null when not due
 * }</pre>
 */
final class Evaluation {
  private final Optional<BatchSampler> held;
  private final int interval;
  private final int batches;
  private final int totalSteps;
  private final LanguageModel model;
  private final Device device;
  private final GradientSync sync;

  Evaluation(Optional<BatchSampler> held, int interval, int batches, int totalSteps, LanguageModel model,
      Device device, GradientSync sync) {
    this.held = held;
    this.interval = interval;
    this.batches = batches;
    this.totalSteps = totalSteps;
    this.model = model;
    this.device = device;
    this.sync = sync;
  }

  /** The held-out loss (averaged over the processes) after step {@code done}, or null when none is due. */
  Double ifDue(int done) {
    boolean due = held.isPresent() && (done == totalSteps || (interval > 0 && done % interval == 0));
    return due ? evaluate(held.get()) : null;
  }

  /** The mean loss over the held-out batches in eval mode (no dropout), without gradients; the mode comes back. */
  private double evaluate(BatchSampler sampler) {
    boolean training = model.is_training();
    model.eval();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      Tensor sum = null;
      for (int b = 0; b < batches; b++) {
        BatchSampler.Batch batch = sampler.batch(b, device);
        Tensor loss = model.loss(batch.inputs(), batch.targets()).to(torch.ScalarType.Double);
        sum = sum == null ? loss : sum.add(loss);
      }
      return sync.meanOverProcesses(sum.div(new Scalar((double) batches))).item_double();
    } finally {
      model.train(training);
    }
  }
}
