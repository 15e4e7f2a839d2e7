package org.fastllm.modules.optim;

import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * The AdamW update of a float32 weight whose bfloat16 copy the model reads ({@code Linear.useCopy}): the gradient
 * is the copy's (bfloat16), and the copy is rewritten from the updated weight. On CUDA one kernel
 * ({@code adamw.cu}, compiled at first use) does it in one pass; elsewhere, or where it does not compile, the same
 * update runs in tensor operations.
 *
 * <pre>{@code
 * // given Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor copy, Tensor scale, double lr, long step
 * CopyAdamW.step(weight, expAvg, expAvgSq, copy.grad(), copy, scale, lr, 0.1, 0.9, 0.95, 1e-8, step);
 * }</pre>
 */
final class CopyAdamW {
  static final String SOURCE = "org/fastllm/modules/optim/adamw.cu";
  private static final int THREADS = 256;
  private static final long MAX_BLOCKS = 4096;

  private CopyAdamW() {}

  /** The compiled kernel for tensors on {@code weight}'s device, or empty where tensor operations run. */
  static Optional<RuntimeKernels.Module> kernel(Tensor weight) {
    if (!weight.is_cuda() || RuntimeKernels.availability() != null) {
      return Optional.empty();
    }
    return RuntimeKernels.tryCompile(SOURCE, weight.device().index(), Map.of());
  }

  /**
   * One update (step {@code step >= 1}, decoupled weight decay {@code decay}) with the gradient {@code grad}
   * divided by {@code gradScale}, a one-element float32 tensor on the weight's device.
   */
  static void step(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale,
      double lr, double decay, double beta1, double beta2, double epsilon, long step) {
    double stepSize = lr / (1 - Math.pow(beta1, step));
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
    long n = weight.numel();
    if (n == 0) {
      return;
    }
    Optional<RuntimeKernels.Module> kernel = kernel(weight);
    if (kernel.isPresent()) {
      long blocks = Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS);
      kernel.get().launch("adamw_bf16_copy", RuntimeKernels.grid(blocks, 1), THREADS, 0, weight, expAvg, expAvgSq,
          grad.contiguous(), copy, gradScale, n, (float) (lr * decay), (float) beta1, (float) beta2,
          (float) stepSize, (float) sqrtCorrection2, (float) epsilon);
      return;
    }
    Tensor g = grad.to(torch.ScalarType.Float).div(gradScale);
    weight.sub_(weight.mul(new Scalar(lr * decay)));
    expAvg.mul_(new Scalar(beta1)).add_(g, new Scalar(1 - beta1));
    expAvgSq.mul_(new Scalar(beta2)).addcmul_(g, g, new Scalar(1 - beta2));
    Tensor denom = expAvgSq.sqrt().div_(new Scalar(sqrtCorrection2)).add_(new Scalar(epsilon));
    weight.addcdiv_(expAvg, denom, new Scalar(-stepSize));
    copy.copy_(weight);
  }
}
