package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;

/**
 * The D skip and silu(z) gate after the selective scan, {@code out = (y + D u) silu(z)}, as a pair of kernels: the
 * contract between {@link SkipGate} and an implementation ({@link CudaGateKernels}, or a twin on the CPU in tests).
 * Tensors are {@code [rows, channels]}: {@code y} and {@code dy} float32 and contiguous; {@code u}, {@code z},
 * {@code out}, {@code dout}, {@code du}, {@code dz} bfloat16 with unit column stride ({@code u} and {@code z} may
 * be slices of wider rows); {@code D} and {@code dD} float32 {@code [channels]}, {@code dD} zeroed by the caller.
 *
 * <pre>{@code
 * // given GateKernels kernels, Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out
 * kernels.forward(y, u, z, skip, out);
 * }</pre>
 */
interface GateKernels {
  /** Null when the kernels run for {@code y}'s device, otherwise why not. */
  String unavailable(Tensor y);

  void forward(Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out);

  void backward(Tensor dout, Tensor y, Tensor u, Tensor z, Tensor skip, Tensor dy, Tensor du, Tensor dz,
      Tensor dskip);
}
