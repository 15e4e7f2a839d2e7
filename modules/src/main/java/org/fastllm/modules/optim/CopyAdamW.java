package org.fastllm.modules.optim;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelReport;

/**
 * The AdamW update of a float32 weight whose bfloat16 copy the model reads ({@code Linear.useCopy}): the gradient
 * is the copy's (bfloat16), and the copy is rewritten from the updated weight. On CUDA one kernel
 * ({@link AdamWCopyKernels}, {@code adamw.cu}, compiled at first use) does it in one pass; elsewhere, or where it
 * does not compile, the same update runs in tensor operations.
 *
 * <pre>{@code
 * // given Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor copy, Tensor scale, double lr, long step
 * CopyAdamW.step(weight, expAvg, expAvgSq, copy.grad(), copy, scale, lr, 0.1, 0.9, 0.95, 1e-8, step);
 * }</pre>
 */
final class CopyAdamW {
  private static final CopyAdamW STANDARD = new CopyAdamW(new CudaAdamWCopyKernels(),
      new KernelFeature("bf16_copies", KernelChoice.AUTO, new KernelReport(), null));

  private final AdamWCopyKernels kernels;
  private final KernelFeature feature;

  /** The update through {@code kernels} where {@code feature} takes them, else in tensor operations. */
  CopyAdamW(AdamWCopyKernels kernels, KernelFeature feature) {
    this.kernels = kernels;
    this.feature = feature;
  }

  /** Null when the standard (CUDA) kernel runs for tensors on {@code weight}'s device, otherwise why not. */
  static String unavailable(Tensor weight) {
    return STANDARD.kernels.unavailable(weight);
  }

  /**
   * One update (step {@code step >= 1}, decoupled weight decay {@code decay}) with the gradient {@code grad}
   * divided by {@code gradScale}, a one-element float32 tensor on the weight's device: the kernel on CUDA, where it
   * compiles, else tensor operations.
   */
  static void step(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale,
      double lr, double decay, double beta1, double beta2, double epsilon, long step) {
    STANDARD.update(weight, expAvg, expAvgSq, grad, copy, gradScale, lr, decay, beta1, beta2, epsilon, step);
  }

  /** As {@link #step}, through this instance's kernels. */
  void update(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale,
      double lr, double decay, double beta1, double beta2, double epsilon, long step) {
    if (weight.numel() == 0) {
      return;
    }
    if (feature.runs(() -> kernels.unavailable(weight))) {
      kernels.step(weight, expAvg, expAvgSq, grad.contiguous(), copy, gradScale,
          AdamWCopyKernels.Step.of(lr, decay, beta1, beta2, epsilon, step));
      return;
    }
    double stepSize = lr / (1 - Math.pow(beta1, step));
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
    Tensor g = grad.to(torch.ScalarType.Float).div(gradScale);
    weight.sub_(weight.mul(new Scalar(lr * decay)));
    expAvg.mul_(new Scalar(beta1)).add_(g, new Scalar(1 - beta1));
    expAvgSq.mul_(new Scalar(beta2)).addcmul_(g, g, new Scalar(1 - beta2));
    Tensor denom = expAvgSq.sqrt().div_(new Scalar(sqrtCorrection2)).add_(new Scalar(epsilon));
    weight.addcdiv_(expAvg, denom, new Scalar(-stepSize));
    copy.copy_(weight);
  }
}
