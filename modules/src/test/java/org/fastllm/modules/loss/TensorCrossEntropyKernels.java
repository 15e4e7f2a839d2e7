package org.fastllm.modules.loss;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelImplementations;

/**
 * The row contract of {@link CrossEntropyKernels} in tensor operations on any device, in float64 where the logits
 * are float64: lets the CPU tests drive {@link CrossEntropy}'s kernel path (counting, scaling, the backward's
 * wiring), of the loss alone or of a whole model.
 */
public final class TensorCrossEntropyKernels implements CrossEntropyKernels {

  /** {@code base} with these kernels for the loss. */
  public static KernelImplementations in(KernelImplementations base) {
    return base.with(CrossEntropyKernels.class, new TensorCrossEntropyKernels());
  }

  @Override
  public String unavailable(Tensor logits) {
    return null;
  }

  private static Tensor wide(Tensor logits) {
    return logits.scalar_type().intern() == torch.ScalarType.Double ? logits : logits.to(torch.ScalarType.Float);
  }

  private static Tensor kept(Tensor targets) {
    return targets.ne(new Scalar(CrossEntropy.IGNORED));
  }

  @Override
  public void forward(Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse) {
    Tensor x = wide(logits);
    Tensor lse = torch.logsumexp(x, new long[] {1}, false);
    Tensor picked = x.gather(1, targets.clamp_min(new Scalar(0)).unsqueeze(1)).squeeze(1);
    rowLse.copy_(lse);
    rowLoss.copy_(lse.sub(picked).mul(kept(targets)));
  }

  @Override
  public void backward(Tensor logits, Tensor targets, Tensor rowLse, Tensor scale, Tensor gradient) {
    Tensor x = wide(logits);
    Tensor p = x.sub(rowLse.to(x.scalar_type()).unsqueeze(1)).exp();
    Tensor onehot = torch.zeros_like(p).scatter(1, targets.clamp_min(new Scalar(0)).unsqueeze(1), new Scalar(1.0));
    Tensor rowFactor = kept(targets).to(x.scalar_type()).mul(scale.to(x.scalar_type())).unsqueeze(1);
    gradient.copy_(p.sub(onehot).mul(rowFactor));
  }
}
