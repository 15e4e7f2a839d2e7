package org.fastllm.modules.optim;

import java.util.List;
import org.bytedeco.pytorch.IValue;

/**
 * A group updated by libtorch's fused AdamW kernel ({@link FusedAdamW}): one launch per step for all its tensors,
 * the clipping scale applied as the kernel reads each gradient.
 *
 * <pre>{@code
 * // given List<Slot> slots, UpdateStep step
 * new FusedKernelGroup(true, 1.0, slots, false).update(step);
 * }</pre>
 */
final class FusedKernelGroup extends ParameterGroup {
  /** The kernel's tensor-list arguments, built once. */
  private final IValue[] lists;

  FusedKernelGroup(boolean decay, double lrScale, List<Slot> slots, boolean flatGradients) {
    super(decay, lrScale, slots, flatGradients);
    lists = FusedAdamW.lists(tensors(), flatGradients ? views(grads) : null, views(expAvg), views(expAvgSq),
        stepCount);
  }

  @Override
  void update(UpdateStep s) {
    IValue gradients = grads != null ? lists[1] : FusedAdamW.list(values, gradients());
    FusedAdamW.step(lists, gradients, s.lr(), s.beta1(), s.beta2(), s.weightDecay(), s.epsilon(), s.gradScale());
  }
}
