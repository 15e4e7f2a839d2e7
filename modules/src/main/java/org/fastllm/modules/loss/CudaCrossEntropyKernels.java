package org.fastllm.modules.loss;

import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * The cross-entropy kernels of {@code cross_entropy.cu}, compiled at first use per device and type: one block per
 * row reading it in 16-byte vectors, so the vocabulary must be a multiple of 8 (bf16) or 4 (float32) elements and
 * the logits 16-byte aligned; anything else goes to libtorch's operations.
 */
final class CudaCrossEntropyKernels implements CrossEntropyKernels {
  static final String SOURCE = "org/fastllm/modules/loss/cross_entropy.cu";
  private static final int THREADS = 512;

  @Override
  public boolean supports(Tensor logits) {
    if (!logits.is_cuda() || logits.dim() != 2 || logits.size(0) == 0 || logits.size(0) >= Integer.MAX_VALUE
        || !logits.is_contiguous() || logits.data_ptr().address() % 16 != 0
        || RuntimeKernels.availability() != null) {
      return false;
    }
    torch.ScalarType type = logits.scalar_type().intern();
    int vector = type == torch.ScalarType.BFloat16 ? 8 : type == torch.ScalarType.Float ? 4 : 0;
    return vector > 0 && logits.size(1) % vector == 0 && logits.size(1) < Integer.MAX_VALUE
        && module(logits).isPresent();
  }

  private static Optional<KernelModule> module(Tensor logits) {
    return RuntimeKernels.tryCompile(SOURCE, logits.device().index(),
        Map.of("BF16", logits.scalar_type().intern() == torch.ScalarType.BFloat16 ? 1 : 0));
  }

  @Override
  public void forward(Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse) {
    module(logits).orElseThrow().launch("cross_entropy_forward", RuntimeKernels.grid(logits.size(0), 1), THREADS,
        0, logits, targets, rowLoss, rowLse, (int) logits.size(1));
  }

  @Override
  public void backward(Tensor logits, Tensor targets, Tensor rowLse, Tensor scale, Tensor gradient) {
    module(logits).orElseThrow().launch("cross_entropy_backward", RuntimeKernels.grid(logits.size(0), 1), THREADS,
        0, logits, targets, rowLse, scale, gradient, (int) logits.size(1));
  }
}
