package org.fastllm.modules.loss;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.LayerContext;

/**
 * Mean cross-entropy of next-token logits, as {@code torch.nn.functional.cross_entropy} computes it (targets of
 * {@value #IGNORED} left out of the mean).
 *
 * <pre>{@code
 * // given Tensor logits, Tensor targets, long vocab, LayerContext context
 * Tensor loss = new CrossEntropy(context).mean(logits.reshape(-1, vocab), targets.reshape(-1));
 * }</pre>
 *
 * <p>With {@code training.kernels.loss} on or auto, on a CUDA device, for bf16 and float32 logits, forward and
 * backward are one kernel each ({@code cross_entropy.cu}, compiled at first use): the logits are read once per pass
 * and the gradient written once in their type. libtorch's path under bf16 autocast first copies the logits to
 * float32, then keeps a float32 log-softmax and its float32 gradient, each the size of the logits (batch x sequence
 * x vocabulary). A target outside {@code [0, vocab)} other than {@value #IGNORED} gives a NaN loss there with the
 * kernels, where libtorch's operations stop with an error.
 */
public final class CrossEntropy {
  /** The target id that leaves a row out of the loss. */
  public static final int IGNORED = -100;
  private final KernelFeature feature;
  private final CrossEntropyKernels kernels;

  /** The loss of a model built with {@code context}. */
  public CrossEntropy(LayerContext context) {
    this.feature = context.feature(KernelKey.LOSS);
    this.kernels = context.implementation(CrossEntropyKernels.class, CudaCrossEntropyKernels::new);
  }

  /** The mean loss (float32 scalar) of {@code logits [rows, vocab]} against {@code targets [rows]}. */
  public Tensor mean(Tensor logits, Tensor targets) {
    return feature.runs(() -> kernels.unavailable(logits)) ? fused(logits, targets)
        : torch.cross_entropy_loss(logits, targets);
  }

  /** The mean loss through the kernels, which must take {@code logits}. */
  private Tensor fused(Tensor logits, Tensor targets) {
    long rows = logits.size(0);
    Tensor x;
    Tensor ids;
    Tensor rowLse;
    Tensor count;
    Tensor loss;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      x = logits.detach();
      ids = targets.reshape(-1).to(torch.ScalarType.Long).contiguous();
      Tensor rowLoss = KernelFeature.empty(logits, torch.ScalarType.Float, rows);
      rowLse = KernelFeature.empty(logits, torch.ScalarType.Float, rows);
      kernels.forward(x, ids, rowLoss, rowLse);
      count = ids.ne(new Scalar(IGNORED)).sum().to(torch.ScalarType.Float);
      loss = rowLoss.sum().div(count);
    }
    return feature.attach(loss, List.of(logits), List.of(x, ids, rowLse, count), dy -> {
      Tensor scale = dy.to(torch.ScalarType.Float).div(count).contiguous();
      Tensor gradient = KernelFeature.emptyLike(x);
      kernels.backward(x, ids, rowLse, scale, gradient);
      return new Tensor[] {gradient};
    });
  }
}
