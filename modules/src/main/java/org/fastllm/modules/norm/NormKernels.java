package org.fastllm.modules.norm;

import org.bytedeco.pytorch.Tensor;

/**
 * A normalization over the last dimension as a pair of kernels for bf16 autocast: float32 input and parameters, a
 * bfloat16 output and output gradient. {@code x} is a contiguous float32 {@code [rows, size]} tensor; {@code mean}
 * and {@code rstd} are float32 {@code [rows]} (mean 0 for rms_norm); {@code bias} is null for rms_norm.
 *
 * <pre>{@code
 * // given LayerContext context
 * NormKernels kernels = context.implementation(NormKernels.class, CudaNormKernels::new);
 * }</pre>
 *
 * <p>{@link CudaNormKernels} runs them on the GPU; the tests' {@code TensorNormKernels} is the same contract in
 * tensor operations, for the CPU.
 */
interface NormKernels {

  /**
   * Null when these kernels can run a norm over {@code size} values on {@code x}'s device (compiling if needed),
   * otherwise why not.
   */
  String unavailable(Tensor x, long size, boolean rms);

  /** Fills {@code y} (bfloat16), {@code mean} and {@code rstd}. */
  void forward(Tensor x, Tensor weight, Tensor bias, double epsilon, Tensor y, Tensor mean, Tensor rstd);

  /**
   * Fills {@code dx} (float32) from {@code dy} (bfloat16) and the forward's {@code mean} and {@code rstd}, and
   * {@code dweight} and {@code dbias} (float32, may be null when not wanted).
   */
  void backward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean rms, Tensor dx,
      Tensor dweight, Tensor dbias);
}
