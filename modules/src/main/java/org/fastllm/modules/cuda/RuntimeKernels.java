package org.fastllm.modules.cuda;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.javacpp.Loader;

/**
 * CUDA kernels compiled at run time with NVRTC for the GPU in use, and launched through the CUDA driver on the
 * stream PyTorch computes on (its current stream for the device), so they order with PyTorch's own kernels.
 *
 * <pre>{@code
 * // given Object u, Object delta, Object a, Object b, Object c, Object y, Object saved
 * KernelModule scan = RuntimeKernels.compile("org/fastllm/modules/ssm/selective_scan.cu", 0,
 *     Map.of("STATE", 16, "CHANNELS", 16, "CHUNK", 32));
 * scan.launch("selective_scan_forward", RuntimeKernels.grid(96, 8), 256, 0, u, delta, a, b, c, y, saved,
 *     1024, 1536, 96, 32);
 * }</pre>
 *
 * <p>A program is compiled once per source, device and set of constants (a few hundred milliseconds) and kept for
 * the life of the process; {@link #tryCompile} turns a failure into a fallback, recorded in {@link #failures()}.
 * Arguments are tensors (passed as their data pointers; layout and type on the device are the caller's business),
 * {@code Integer}s ({@code int}), {@code Long}s ({@code long long}) or {@code Float}s, checked against the kernel's
 * parameters as its source declares them ({@link #check}). Loading and launching happen in the device's primary
 * context, the one PyTorch uses. Nothing here touches CUDA on a machine without it: callers ask
 * {@link #availability()} first, which loads the CUDA libraries and says why they cannot be used.
 *
 * <p>The pieces: {@code KernelSource} inlines includes, {@code NvrtcCompiler} makes CUBIN, {@link KernelModule}
 * launches ({@code KernelSignature} checks the arguments, {@code CurrentStream} finds the stream).
 */
public final class RuntimeKernels {
  private static final Map<String, KernelModule> COMPILED = new ConcurrentHashMap<>();
  private static final Map<String, String> FAILED = new ConcurrentHashMap<>();
  private static final Map<String, Map<String, List<KernelSignature>>> DECLARED = new ConcurrentHashMap<>();
  private static volatile String availability;

  private RuntimeKernels() {}

  /**
   * {@code null} when kernels can be compiled and launched here, otherwise why not (no NVRTC, no driver). Loads
   * the CUDA and NVRTC bindings once; call it only when a CUDA device is in use.
   */
  public static String availability() {
    String known = availability;
    if (known == null) {
      synchronized (RuntimeKernels.class) {
        known = availability;
        if (known == null) {
          known = probe();
          availability = known;
        }
      }
    }
    return known.isEmpty() ? null : known;
  }

  private static String probe() {
    try {
      Loader.load(cudart.class);
      Loader.load(nvrtc.class);
      int[] major = {0};
      int[] minor = {0};
      if (nvrtc.nvrtcVersion(major, minor) != 0) {
        throw new IllegalStateException("nvrtcVersion failed");
      }
      CudaDriver.check(cudart.cuInit(0), "cuInit");
      return "";
    } catch (Throwable e) {   // UnsatisfiedLinkError and friends: the libraries are not on this machine
      return "CUDA run-time compilation is unavailable (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
    }
  }

  /**
   * The kernels of {@code resource} (a classpath path) compiled for {@code device} with {@code constants} as
   * {@code -D} definitions.
   *
   * @throws IllegalStateException with NVRTC's log when the source does not compile
   */
  public static KernelModule compile(String resource, int device, Map<String, Integer> constants) {
    return COMPILED.computeIfAbsent(key(resource, device, constants),
        k -> NvrtcCompiler.compile(resource, device, constants));
  }

  /** The sources compiled so far in this process, as {@code resource@device{constants}}. */
  public static Set<String> compiled() {
    return Set.copyOf(COMPILED.keySet());
  }

  /** The sources {@link #tryCompile} could not compile, with NVRTC's or the driver's message. */
  public static Map<String, String> failures() {
    return Map.copyOf(FAILED);
  }

  /**
   * {@link #compile}, or empty when the source does not compile here (an NVRTC older than the GPU, say): the failure
   * is remembered, not retried, and reported once on standard error, so the caller takes its tensor-operation path.
   */
  public static Optional<KernelModule> tryCompile(String resource, int device, Map<String, Integer> constants) {
    String key = key(resource, device, constants);
    KernelModule known = COMPILED.get(key);
    if (known != null) {
      return Optional.of(known);
    }
    if (FAILED.containsKey(key)) {
      return Optional.empty();
    }
    try {
      return Optional.of(compile(resource, device, constants));
    } catch (RuntimeException e) {
      FAILED.put(key, String.valueOf(e.getMessage()));
      System.err.println("warning: " + resource + " could not be compiled for GPU " + device
          + "; its tensor-operation path runs instead: " + e.getMessage());
      return Optional.empty();
    }
  }

  /** Why {@code resource} could not be compiled for {@code device} with {@code constants}; null if it was not tried. */
  public static String failure(String resource, int device, Map<String, Integer> constants) {
    return FAILED.get(key(resource, device, constants));
  }

  private static String key(String resource, int device, Map<String, Integer> constants) {
    return resource + "@" + device + new TreeMap<>(constants);
  }

  /**
   * Checks {@code launch} against the parameters {@code resource} declares for its kernel, without compiling or
   * touching CUDA: lets a test on the CPU check a kernel class's launches with CPU tensors.
   *
   * @throws IllegalArgumentException as a launch would: naming the kernel, the parameter and both types
   */
  public static void check(String resource, KernelLaunch launch) {
    Map<String, List<KernelSignature>> declared =
        DECLARED.computeIfAbsent(resource, r -> KernelSignature.parseAll(KernelSource.inline(r)));
    KernelSignature.check(resource, KernelModule.declared(resource, declared, launch.kernel()), launch.arguments());
  }

  /**
   * Where launches go: {@code "PyTorch's current stream"}, or the legacy default stream and why (the presets'
   * {@code torch_cuda} binding did not load). Call it only where CUDA is in use.
   */
  public static String launchStream() {
    String fallback = CurrentStream.fallback();
    return fallback == null ? "PyTorch's current stream" : "the legacy default stream (" + fallback + ")";
  }

  /** The blocks of a launch, {@code x} by {@code y}. */
  public record Grid(int x, int y) {}

  /** The grid of {@code x} by {@code y} blocks; refuses counts beyond an int. */
  public static Grid grid(long x, long y) {
    return new Grid(Math.toIntExact(x), Math.toIntExact(y));
  }
}
