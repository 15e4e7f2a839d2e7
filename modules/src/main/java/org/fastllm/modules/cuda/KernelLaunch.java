package org.fastllm.modules.cuda;

import java.util.Arrays;

/**
 * One launch of a kernel by name: its grid, block and shared memory, and its arguments in the kernel's order (tensors
 * for pointer parameters, {@code Integer}, {@code Long} and {@code Float} for {@code int}, {@code long long} and
 * {@code float}), checked against the kernel's declared parameters before it runs.
 *
 * <pre>{@code
 * // given KernelModule module, long rows, Object x, Object w, Object b, Object y, Object mean, Object rstd
 * module.launch(KernelLaunch.of("norm_forward", RuntimeKernels.grid(rows, 1), 256, x, w, b, y, mean, rstd, 1e-5f));
 * }</pre>
 *
 * <p>A kernel class builds its launches in one place, so a test on the CPU checks them against the source
 * ({@link RuntimeKernels#check}) with CPU tensors, without a GPU.
 */
public record KernelLaunch(String kernel, RuntimeKernels.Grid grid, int threads, int sharedBytes, Object[] arguments) {

  public KernelLaunch {
    arguments = arguments.clone();
  }

  /** A launch with no dynamic shared memory. */
  public static KernelLaunch of(String kernel, RuntimeKernels.Grid grid, int threads, Object... arguments) {
    return new KernelLaunch(kernel, grid, threads, 0, arguments);
  }

  /** A copy: the launch's arguments cannot be changed through it. */
  @Override
  public Object[] arguments() {
    return arguments.clone();
  }

  @Override
  public String toString() {
    return kernel + grid + "x" + threads + Arrays.toString(arguments);
  }
}
