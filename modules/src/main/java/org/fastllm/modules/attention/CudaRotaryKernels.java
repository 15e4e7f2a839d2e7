package org.fastllm.modules.attention;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The rotary kernel of {@code rotary.cu}, compiled at first use per device and type: one thread per (re, im) pair,
 * reading the input through its strides, so transposed views need no copy.
 *
 * <pre>{@code
 * // given Tensor q, Tensor out, Tensor cos, Tensor sin
 * new CudaRotaryKernels().turn(q, out, cos, sin, 1.0f);
 * }</pre>
 */
final class CudaRotaryKernels implements RotaryKernels {
  static final String SOURCE = "org/fastllm/modules/attention/rotary.cu";
  private static final int THREADS = 256;

  @Override
  public String unavailable(Tensor x) {
    String why = KernelFeature.notOnCuda("the input is", x);
    if (why != null) {
      return why;
    }
    torch.ScalarType type = x.scalar_type().intern();
    if (type != torch.ScalarType.Float && type != torch.ScalarType.BFloat16) {
      return "the input is " + type + ", the kernel takes float32 and bfloat16";
    }
    if (x.numel() / 2 >= Integer.MAX_VALUE) {
      return "the input has " + x.numel() / 2 + " pairs, more than an int counts";
    }
    if (RuntimeKernels.availability() != null) {
      return RuntimeKernels.availability();
    }
    int device = x.device().index();
    return RuntimeKernels.tryCompile(SOURCE, device, constants(x)).isPresent() ? null
        : "rotary.cu did not compile: " + RuntimeKernels.failure(SOURCE, device, constants(x));
  }

  private static Map<String, Integer> constants(Tensor x) {
    return Map.of("BF16", x.scalar_type().intern() == torch.ScalarType.BFloat16 ? 1 : 0);
  }

  @Override
  public void turn(Tensor x, Tensor out, Tensor cos, Tensor sin, float sign) {
    if (x.numel() / 2 == 0) {
      return;
    }
    RuntimeKernels.compile(SOURCE, x.device().index(), constants(x)).launch(launch(x, out, cos, sin, sign));
  }

  static KernelLaunch launch(Tensor x, Tensor out, Tensor cos, Tensor sin, float sign) {
    long pairs = x.numel() / 2;
    return KernelLaunch.of("rotary", RuntimeKernels.grid((pairs + THREADS - 1) / THREADS, 1), THREADS,
        x, out, cos, sin, (int) x.size(1), (int) x.size(2), (int) x.size(3),
        x.stride(0), x.stride(1), x.stride(2), x.stride(3), (int) pairs, sign);
  }
}
