package org.fastllm.modules.optim;

import org.bytedeco.pytorch.Tensor;

/**
 * The AdamW update of a float32 weight with a bfloat16 copy as one kernel: reads the weight, both moments and the
 * copy's bfloat16 gradient, writes the weight, the moments and the copy. Every tensor is contiguous, {@code n}
 * elements; {@code gradScale} is a one-element float32 tensor the gradient is divided by.
 *
 * <pre>{@code
 * // given AdamWCopyKernels kernels, Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy
 * // given Tensor scale, double lr
 * kernels.step(weight, expAvg, expAvgSq, grad, copy, scale, AdamWCopyKernels.Step.of(lr, 0.1, 0.9, 0.95, 1e-8, 7));
 * }</pre>
 *
 * <p>{@link CudaAdamWCopyKernels} runs it on the GPU; the tests' {@code JavaAdamWCopyKernels} is the same arithmetic
 * in plain loops, for the CPU.
 */
interface AdamWCopyKernels {

  /** Null when the kernel can run on {@code weight}'s device (compiling if needed), otherwise why not. */
  String unavailable(Tensor weight);

  /** One update as {@code step} says. */
  void step(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale, Step step);

  /**
   * The update's numbers as the kernel takes them: {@code w -= lrDecay w}, the moments' betas, then
   * {@code w -= stepSize m / (sqrt(v) / sqrtCorrection2 + epsilon)}.
   */
  record Step(float lrDecay, float beta1, float beta2, float stepSize, float sqrtCorrection2, float epsilon) {

    /** Step {@code step >= 1} at learning rate {@code lr} with decoupled weight decay {@code decay}. */
    static Step of(double lr, double decay, double beta1, double beta2, double epsilon, long step) {
      return new Step((float) (lr * decay), (float) beta1, (float) beta2, (float) (lr / (1 - Math.pow(beta1, step))),
          (float) Math.sqrt(1 - Math.pow(beta2, step)), (float) epsilon);
    }
  }
}
