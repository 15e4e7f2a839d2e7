package org.fastllm.modules.loss;

import org.bytedeco.pytorch.Tensor;

/**
 * Cross-entropy row by row, as a pair of kernels. {@code logits} is a contiguous {@code [rows, vocab]} tensor,
 * {@code targets} contiguous int64 {@code [rows]} ({@value CrossEntropy#IGNORED} marks a row left out); the
 * per-row results are float32 {@code [rows]}.
 *
 * <pre>{@code
 * // given LayerContext context
 * CrossEntropyKernels kernels = context.implementation(CrossEntropyKernels.class, CudaCrossEntropyKernels::new);
 * }</pre>
 *
 * <p>{@link CudaCrossEntropyKernels} runs them on the GPU; the tests' {@code TensorCrossEntropyKernels} is the same
 * contract in tensor operations, for the CPU.
 */
interface CrossEntropyKernels {

  /** Null when these kernels take {@code logits} (device, type, layout), compiling if needed; otherwise why not. */
  String unavailable(Tensor logits);

  /** Fills {@code rowLoss} (log-sum-exp minus the target's logit, 0 for a left-out row) and {@code rowLse}. */
  void forward(Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse);

  /**
   * Fills {@code gradient} (the logits' shape and type) with {@code (softmax - onehot(target)) * scale}, zero on
   * left-out rows; {@code scale} is a one-element float32 tensor on the logits' device.
   */
  void backward(Tensor logits, Tensor targets, Tensor rowLse, Tensor scale, Tensor gradient);
}
