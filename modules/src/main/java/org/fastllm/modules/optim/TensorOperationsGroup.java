package org.fastllm.modules.optim;

import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * A group updated in tensor operations over its flat buffers, where the fused kernel is off or missing: the same
 * update as {@code torch.optim.AdamW}, a handful of operations per group.
 *
 * <pre>{@code
 * // given List<Slot> slots, UpdateStep step
 * new TensorOperationsGroup(true, 1.0, slots, false).update(step);
 * }</pre>
 */
final class TensorOperationsGroup extends ParameterGroup {

  TensorOperationsGroup(boolean decay, double lrScale, List<Slot> slots, boolean flatGradients) {
    super(decay, lrScale, slots, flatGradients);
  }

  @Override
  void update(UpdateStep s) {
    double correction1 = 1 - Math.pow(s.beta1(), s.step());
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(s.beta2(), s.step()));
    Tensor gradients = gradientsAsOneTensor();
    if (s.gradScale() != null) {
      gradients = gradients.div(s.gradScale().to(gradients.scalar_type()));
    }
    if (s.weightDecay() > 0) {
      values.mul_(new Scalar(1 - s.lr() * s.weightDecay()));
    }
    expAvg.mul_(new Scalar(s.beta1())).add_(gradients, new Scalar(1 - s.beta1()));
    expAvgSq.mul_(new Scalar(s.beta2())).addcmul_(gradients, gradients, new Scalar(1 - s.beta2()));
    Tensor denom = expAvgSq.sqrt().div_(new Scalar(sqrtCorrection2)).add_(new Scalar(s.epsilon()));
    values.addcdiv_(expAvg, denom, new Scalar(-s.lr() / correction1));
  }
}
