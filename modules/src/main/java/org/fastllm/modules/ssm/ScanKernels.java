package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;

/**
 * The selective scan as a pair of hand-written kernels: a forward that keeps the state entering every chunk of
 * {@link #chunk(long)} steps, and a backward that recomputes each chunk's states from it. Every tensor is contiguous
 * float32; shapes as in {@link SelectiveScan#scan}: u, delta {@code [b, t, D]}, a {@code [D, N]}, b, c
 * {@code [b, t, G, N]}, entering {@code [b, D, chunks, N]}.
 *
 * <pre>{@code
 * // given LayerContext context
 * ScanKernels kernels = context.implementation(ScanKernels.class,
 *     () -> new CudaScanKernels(context.kernels().scanSegments()));
 * }</pre>
 *
 * <p>{@link CudaScanKernels} runs them on the GPU; the tests' {@code JavaScanKernels} is the same algorithm in plain
 * loops, for the CPU.
 */
interface ScanKernels {

  /** Steps per chunk for {@code state} states. */
  int chunk(long state);

  /**
   * Null when these kernels take this shape ({@code D} channels, {@code G} groups, {@code N} states) on {@code u}'s
   * device (compiling, where that applies); otherwise why not.
   */
  String unavailable(Tensor u, long channels, long groups, long state);

  /** Fills {@code y} and {@code entering}. */
  void forward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y, Tensor entering);

  /** Fills {@code du}, {@code ddelta}; adds to {@code da}, {@code db}, {@code dc}, which start at zero. */
  void backward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor entering, Tensor dy,
      Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc);
}
