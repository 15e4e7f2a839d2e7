package org.fastllm.modules.attention;

import org.bytedeco.pytorch.Tensor;

/**
 * The rotation of rotary embeddings as a kernel: {@code x} {@code [b, heads, t, size]} in any strides, float32 or
 * bfloat16; {@code out} a new contiguous tensor of its shape and type; {@code cos} and {@code sin} float32
 * {@code [>= t, size / 2]} tables. The backward is the same kernel turning the other way ({@code sign} -1).
 *
 * <pre>{@code
 * // given LayerContext context
 * RotaryKernels kernels = context.implementation(RotaryKernels.class, CudaRotaryKernels::new);
 * }</pre>
 *
 * <p>{@link CudaRotaryKernels} runs it on the GPU; the tests' {@code TensorRotaryKernels} is the same contract in
 * tensor operations, for the CPU.
 */
interface RotaryKernels {

  /** Null when the kernel takes {@code x} (device, type, size), compiling if needed; otherwise why not. */
  String unavailable(Tensor x);

  /** Fills {@code out} with {@code x} turned by {@code sign} times each position's angles. */
  void turn(Tensor x, Tensor out, Tensor cos, Tensor sin, float sign);
}
