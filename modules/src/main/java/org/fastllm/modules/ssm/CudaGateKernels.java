package org.fastllm.modules.ssm;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The gate's CUDA kernels ({@code gate.cu}), compiled at first use for the device: {@value #THREADS} threads along
 * the channels, and rows shared out over about {@value #BLOCKS} blocks.
 *
 * <pre>{@code
 * // given Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out
 * new CudaGateKernels().forward(y, u, z, skip, out);
 * }</pre>
 */
final class CudaGateKernels implements GateKernels {
  static final String SOURCE = "org/fastllm/modules/ssm/gate.cu";
  private static final int THREADS = 256;
  /** Enough blocks to fill a large GPU; each adds its share of dD once per channel. */
  private static final long BLOCKS = 2048;

  @Override
  public String unavailable(Tensor y) {
    String why = KernelFeature.notOnCuda("the scan's output is", y);
    if (why == null) {
      why = RuntimeKernels.availability();
    }
    if (why != null) {
      return why;
    }
    int device = y.device().index();
    return RuntimeKernels.tryCompile(SOURCE, device, Map.of()).isPresent() ? null
        : "gate.cu did not compile: " + RuntimeKernels.failure(SOURCE, device, Map.of());
  }

  @Override
  public void forward(Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out) {
    if (y.size(0) > 0) {
      RuntimeKernels.compile(SOURCE, y.device().index(), Map.of()).launch(forwardLaunch(y, u, z, skip, out));
    }
  }

  @Override
  public void backward(Tensor dout, Tensor y, Tensor u, Tensor z, Tensor skip, Tensor dy, Tensor du, Tensor dz,
      Tensor dskip) {
    if (y.size(0) > 0) {
      RuntimeKernels.compile(SOURCE, y.device().index(), Map.of())
          .launch(backwardLaunch(dout, y, u, z, skip, dy, du, dz, dskip));
    }
  }

  static KernelLaunch forwardLaunch(Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out) {
    return KernelLaunch.of("gate_forward", grid(y), THREADS, y, u, z, skip, out, (int) y.size(0), (int) y.size(1),
        (int) u.stride(0), (int) z.stride(0));
  }

  static KernelLaunch backwardLaunch(Tensor dout, Tensor y, Tensor u, Tensor z, Tensor skip, Tensor dy, Tensor du,
      Tensor dz, Tensor dskip) {
    return KernelLaunch.of("gate_backward", grid(y), THREADS, dout, y, u, z, skip, dy, du, dz, dskip,
        (int) y.size(0), (int) y.size(1), (int) u.stride(0), (int) z.stride(0));
  }

  private static RuntimeKernels.Grid grid(Tensor y) {
    long across = (y.size(1) + THREADS - 1) / THREADS;
    return RuntimeKernels.grid(across, Math.max(1, Math.min(y.size(0), BLOCKS / across)));
  }
}
