package org.fastllm.modules.loss;

import java.util.Arrays;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The cross-entropy kernels of {@code cross_entropy.cu}, compiled at first use per device and type: one block per
 * row reading it in 16-byte vectors, so the vocabulary must be a multiple of 8 (bf16) or 4 (float32) elements and
 * the logits 16-byte aligned; anything else goes to libtorch's operations.
 *
 * <pre>{@code
 * // given Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse
 * new CudaCrossEntropyKernels().forward(logits, targets, rowLoss, rowLse);
 * }</pre>
 */
final class CudaCrossEntropyKernels implements CrossEntropyKernels {
  static final String SOURCE = "org/fastllm/modules/loss/cross_entropy.cu";
  private static final int THREADS = 512;

  @Override
  public String unavailable(Tensor logits) {
    String why = KernelFeature.notOnCuda("the logits are", logits);
    if (why != null) {
      return why;
    }
    if (logits.dim() != 2 || logits.size(0) == 0 || logits.size(0) >= Integer.MAX_VALUE
        || logits.size(1) >= Integer.MAX_VALUE) {
      return "the logits' shape is " + Arrays.toString(logits.sizes().vec().get())
          + ", the kernels take [rows, vocab] with 1 to 2^31 - 1 rows and a vocabulary below 2^31";
    }
    if (!logits.is_contiguous() || logits.data_ptr().address() % 16 != 0) {
      return "the logits are not contiguous and 16-byte aligned";
    }
    torch.ScalarType type = logits.scalar_type().intern();
    int vector = type == torch.ScalarType.BFloat16 ? 8 : type == torch.ScalarType.Float ? 4 : 0;
    if (vector == 0) {
      return "the logits are " + type + ", the kernels take bfloat16 and float32";
    }
    if (logits.size(1) % vector != 0) {
      return "the vocabulary (" + logits.size(1) + ") is not a multiple of " + vector;
    }
    if (RuntimeKernels.availability() != null) {
      return RuntimeKernels.availability();
    }
    int device = logits.device().index();
    return RuntimeKernels.tryCompile(SOURCE, device, constants(logits)).isPresent() ? null
        : "cross_entropy.cu did not compile: " + RuntimeKernels.failure(SOURCE, device, constants(logits));
  }

  private static Map<String, Integer> constants(Tensor logits) {
    return Map.of("BF16", logits.scalar_type().intern() == torch.ScalarType.BFloat16 ? 1 : 0);
  }

  private static KernelModule module(Tensor logits) {
    return RuntimeKernels.compile(SOURCE, logits.device().index(), constants(logits));
  }

  @Override
  public void forward(Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse) {
    module(logits).launch(forwardLaunch(logits, targets, rowLoss, rowLse));
  }

  static KernelLaunch forwardLaunch(Tensor logits, Tensor targets, Tensor rowLoss, Tensor rowLse) {
    return KernelLaunch.of("cross_entropy_forward", RuntimeKernels.grid(logits.size(0), 1), THREADS,
        logits, targets, rowLoss, rowLse, (int) logits.size(1));
  }

  @Override
  public void backward(Tensor logits, Tensor targets, Tensor rowLse, Tensor scale, Tensor gradient) {
    module(logits).launch(backwardLaunch(logits, targets, rowLse, scale, gradient));
  }

  static KernelLaunch backwardLaunch(Tensor logits, Tensor targets, Tensor rowLse, Tensor scale, Tensor gradient) {
    return KernelLaunch.of("cross_entropy_backward", RuntimeKernels.grid(logits.size(0), 1), THREADS,
        logits, targets, rowLse, scale, gradient, (int) logits.size(1));
  }
}
