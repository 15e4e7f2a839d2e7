package org.fastllm.modules.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A compiled program loaded on one device: launch its kernels by name, on PyTorch's current stream of the device.
 *
 * <pre>{@code
 * // given Map<String, Integer> constants, Object u, Object delta, Object a, Object b, Object c, Object y, Object saved
 * KernelModule scan = RuntimeKernels.compile("org/fastllm/modules/ssm/selective_scan.cu", 0, constants);
 * scan.launch("selective_scan_forward", RuntimeKernels.grid(96, 8), 256, 0, u, delta, a, b, c, y, saved,
 *     1024, 1536, 96, 32);
 * }</pre>
 *
 * <p><b>A launch whose arguments do not match the kernel's declared parameters in number and kind is refused</b>
 * before anything reaches the driver, with a message naming the kernel, the parameter and both types.
 */
public final class KernelModule {
  private final String resource;
  private final CUmod_st module;
  private final int device;
  private final Map<String, List<KernelSignature>> signatures;
  private final Map<String, CUfunc_st> functions = new ConcurrentHashMap<>();
  private final Map<String, Integer> resident = new ConcurrentHashMap<>();

  KernelModule(String resource, CUmod_st module, int device, Map<String, List<KernelSignature>> signatures) {
    this.resource = resource;
    this.module = module;
    this.device = device;
    this.signatures = Map.copyOf(signatures);
  }

  /**
   * Launches {@code kernel}; returns at once (the work runs in order with PyTorch's on the current stream).
   *
   * @param arguments {@link org.bytedeco.pytorch.Tensor}s (their data pointers), {@link Integer}s, {@link Long}s and
   *     {@link Float}s, in the kernel's order
   * @throws IllegalArgumentException when the arguments do not match the kernel's parameters
   */
  public void launch(String kernel, RuntimeKernels.Grid grid, int threads, int sharedBytes, Object... arguments) {
    launch(new KernelLaunch(kernel, grid, threads, sharedBytes, arguments));
  }

  /** Launches as {@code launch} says; see {@link #launch(String, RuntimeKernels.Grid, int, int, Object...)}. */
  public void launch(KernelLaunch launch) {
    String kernel = launch.kernel();
    Object[] arguments = launch.arguments();
    KernelSignature.check(resource, declared(resource, signatures, kernel), arguments);
    CUfunc_st function = functions.computeIfAbsent(kernel, this::function);
    LaunchArguments slots = LaunchArguments.OF_THREAD.get();
    slots.putAll(kernel, arguments);
    RuntimeKernels.Grid grid = launch.grid();
    CudaDriver.inContext(device, () -> {
      CUstream_st stream = CurrentStream.of(device);
      CudaDriver.check(cudart.cuLaunchKernel(function, grid.x(), grid.y(), 1, launch.threads(), 1, 1,
          launch.sharedBytes(), stream, slots.pointers, (PointerPointer<?>) null),
          "launch " + kernel + " of " + resource);
    });
  }

  /** The declarations of {@code kernel} in {@code signatures}; refuses a name the source does not declare. */
  static List<KernelSignature> declared(String resource, Map<String, List<KernelSignature>> signatures,
      String kernel) {
    List<KernelSignature> declared = signatures.get(kernel);
    if (declared == null) {
      throw new IllegalArgumentException(resource + " declares no extern \"C\" __global__ kernel " + kernel
          + " (it declares: " + String.join(", ", signatures.keySet()) + ")");
    }
    return declared;
  }

  /**
   * How many blocks of {@code threads} threads of {@code kernel} the device holds at once (blocks per
   * multiprocessor, as its registers and shared memory allow, times the multiprocessors); asked once per kernel
   * and block shape.
   */
  public int residentBlocks(String kernel, int threads, int sharedBytes) {
    return resident.computeIfAbsent(kernel + "/" + threads + "/" + sharedBytes, k -> {
      CUfunc_st function = functions.computeIfAbsent(kernel, this::function);
      int[] perMultiprocessor = {0};
      CudaDriver.inContext(device, () -> CudaDriver.check(cudart.cuOccupancyMaxActiveBlocksPerMultiprocessor(
          perMultiprocessor, function, threads, sharedBytes), "occupancy of " + kernel + " of " + resource));
      return perMultiprocessor[0] * CudaDriver.attribute(device, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    });
  }

  private CUfunc_st function(String kernel) {
    CUfunc_st function = new CUfunc_st();
    CudaDriver.check(cudart.cuModuleGetFunction(function, module, kernel), "find kernel " + kernel + " in "
        + resource);
    return function;
  }
}
