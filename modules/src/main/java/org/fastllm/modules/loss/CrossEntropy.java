package org.fastllm.modules.loss;

import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.autograd.ExternalBackward;

/**
 * Mean cross-entropy of next-token logits, as {@code torch.nn.functional.cross_entropy} computes it (targets of
 * {@value #IGNORED} left out of the mean).
 *
 * <pre>{@code
 * // given Tensor logits, Tensor targets, long vocab
 * Tensor loss = CrossEntropy.mean(logits.reshape(-1, vocab), targets.reshape(-1));
 * }</pre>
 *
 * <p>On a CUDA device, for bf16 and float32 logits, forward and backward are one kernel each
 * ({@code cross_entropy.cu}, compiled at first use): the logits are read once per pass and the gradient written
 * once in their type. libtorch's path under bf16 autocast first copies the logits to float32, then keeps a float32
 * log-softmax and its float32 gradient, each the size of the logits (batch x sequence x vocabulary). The system
 * property {@code fastllm.fusedLoss=false} turns the kernels off. A target outside {@code [0, vocab)} other than
 * {@value #IGNORED} gives a NaN loss there, where libtorch's operations stop with an error.
 */
public final class CrossEntropy {
  /** The target id that leaves a row out of the loss. */
  public static final int IGNORED = -100;
  private static final CrossEntropyKernels CUDA = new CudaCrossEntropyKernels();

  private CrossEntropy() {}

  /** The mean loss (float32 scalar) of {@code logits [rows, vocab]} against {@code targets [rows]}. */
  public static Tensor mean(Tensor logits, Tensor targets) {
    return usesKernels(logits) ? fused(CUDA, logits, targets) : torch.cross_entropy_loss(logits, targets);
  }

  /** Whether {@link #mean} of these logits runs the fused kernels (compiling them if needed). */
  public static boolean usesKernels(Tensor logits) {
    return !"false".equals(System.getProperty("fastllm.fusedLoss")) && CUDA.supports(logits);
  }

  /** The mean loss through {@code kernels}, which must support {@code logits}. */
  static Tensor fused(CrossEntropyKernels kernels, Tensor logits, Tensor targets) {
    long rows = logits.size(0);
    Tensor x;
    Tensor ids;
    Tensor rowLse;
    Tensor count;
    Tensor loss;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      x = logits.detach();
      ids = targets.reshape(-1).to(torch.ScalarType.Long).contiguous();
      TensorOptions floats = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(logits.device()));
      Tensor rowLoss = torch.empty(new long[] {rows}, floats, new MemoryFormatOptional());
      rowLse = torch.empty(new long[] {rows}, floats, new MemoryFormatOptional());
      kernels.forward(x, ids, rowLoss, rowLse);
      count = ids.ne(new Scalar(IGNORED)).sum().to(torch.ScalarType.Float);
      loss = rowLoss.sum().div(count);
    }
    return ExternalBackward.attach(loss, List.of(logits), List.of(x, ids, rowLse, count), dy -> {
      Tensor scale = dy.to(torch.ScalarType.Float).div(count).contiguous();
      Tensor gradient = torch.empty(x.sizes().vec().get(), new TensorOptions(x.scalar_type()).device(
          new DeviceOptional(x.device())), new MemoryFormatOptional());
      kernels.backward(x, ids, rowLse, scale, gradient);
      return new Tensor[] {gradient};
    });
  }
}
