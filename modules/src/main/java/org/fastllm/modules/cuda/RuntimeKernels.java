package org.fastllm.modules.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;
import org.bytedeco.pytorch.Tensor;

/**
 * CUDA kernels compiled at run time with NVRTC for the GPU in use, and launched through the CUDA driver on the
 * stream PyTorch computes on (the default stream), so they order with PyTorch's own kernels.
 *
 * <pre>{@code
 * // given Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y, Tensor saved
 * RuntimeKernels.Module scan = RuntimeKernels.compile("org/fastllm/modules/ssm/selective_scan.cu", 0,
 *     Map.of("STATE", 16, "CHANNELS", 16, "CHUNK", 32));
 * scan.launch("selective_scan_forward", RuntimeKernels.grid(96, 8), 256, 0, u, delta, a, b, c, y, saved,
 *     1024, 1536, 96, 32);
 * }</pre>
 *
 * <p>A program is compiled once per source, device and set of constants (a few hundred milliseconds) and kept for
 * the life of the process; {@link #tryCompile} turns a failure into a fallback. Arguments are tensors (passed as
 * their data pointers; layout and type on the device are the caller's business), {@code Integer}s ({@code int}),
 * {@code Long}s ({@code long long}) or {@code Float}s. Loading and launching happen in the device's primary context,
 * the one PyTorch uses. Nothing here is touched on a machine without CUDA: callers ask {@link #availability()}
 * first, which loads the CUDA libraries and says why they cannot be used.
 */
public final class RuntimeKernels {
  private static final Map<String, Module> COMPILED = new ConcurrentHashMap<>();
  private static final Map<String, String> FAILED = new ConcurrentHashMap<>();
  private static final Map<Integer, CUctx_st> PRIMARY = new ConcurrentHashMap<>();
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
      check(nvrtc.nvrtcVersion(major, minor) == 0, "nvrtcVersion failed");
      check(cudart.cuInit(0), "cuInit");
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
  public static Module compile(String resource, int device, Map<String, Integer> constants) {
    return COMPILED.computeIfAbsent(key(resource, device, constants), k -> build(resource, device, constants));
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
  public static Optional<Module> tryCompile(String resource, int device, Map<String, Integer> constants) {
    String key = key(resource, device, constants);
    Module known = COMPILED.get(key);
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

  private static String key(String resource, int device, Map<String, Integer> constants) {
    return resource + "@" + device + new java.util.TreeMap<>(constants);
  }

  private static Module build(String resource, int device, Map<String, Integer> constants) {
    String source = source(resource);
    int[] major = {0};
    int[] minor = {0};
    int handle = deviceHandle(device);
    check(cudart.cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, handle), "attribute");
    check(cudart.cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, handle), "attribute");
    List<String> options = new ArrayList<>(List.of("--gpu-architecture=sm_" + major[0] + minor[0], "--std=c++17"));
    new java.util.TreeMap<>(constants).forEach((name, value) -> options.add("-D" + name + "=" + value));
    try (PointerScope scope = new PointerScope()) {
      _nvrtcProgram program = new _nvrtcProgram();
      nvrtcCheck(nvrtc.nvrtcCreateProgram(program, new BytePointer(source, StandardCharsets.UTF_8),
          new BytePointer(resource), 0, (PointerPointer<?>) null, (PointerPointer<?>) null), "create " + resource);
      PointerPointer<BytePointer> optionPointers = new PointerPointer<>(options.size());
      for (int i = 0; i < options.size(); i++) {
        optionPointers.put(i, new BytePointer(options.get(i)));
      }
      int compiled = nvrtc.nvrtcCompileProgram(program, options.size(), optionPointers);
      if (compiled != nvrtc.NVRTC_SUCCESS) {
        String log = log(program);
        nvrtc.nvrtcDestroyProgram(program);
        throw new IllegalStateException("NVRTC could not compile " + resource + " with " + options + ":\n" + log);
      }
      SizeTPointer size = new SizeTPointer(1);
      nvrtcCheck(nvrtc.nvrtcGetCUBINSize(program, size), "CUBIN size");
      BytePointer cubin = new BytePointer(size.get());
      nvrtcCheck(nvrtc.nvrtcGetCUBIN(program, cubin), "CUBIN");
      nvrtc.nvrtcDestroyProgram(program);
      CUmod_st module = new CUmod_st();
      inContext(device, () -> check(cudart.cuModuleLoadData(module, cubin), "load the compiled " + resource));
      return new Module(resource, module, device);
    }
  }

  private static String log(_nvrtcProgram program) {
    SizeTPointer size = new SizeTPointer(1);
    nvrtc.nvrtcGetProgramLogSize(program, size);
    BytePointer log = new BytePointer(size.get());
    nvrtc.nvrtcGetProgramLog(program, log);
    return log.getString(StandardCharsets.UTF_8).replace("\0", "");   // the size counts the final NUL
  }

  private static final Pattern INCLUDE =
      Pattern.compile("(?m)^[ \t]*#include[ \t]+\"([^\"]+)\"[ \t]*$");

  /**
   * The text NVRTC compiles for {@code resource}: each {@code #include "path"} line (a path relative to the
   * resource's folder, as a C compiler reads it) replaced by that resource's text, each included once, between
   * {@code #line} marks so NVRTC's messages name the right file and line.
   */
  static String source(String resource) {
    return expand(resource, new HashSet<>());
  }

  private static String expand(String resource, Set<String> seen) {
    String text = read(resource);
    Matcher include = INCLUDE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (include.find()) {
      String included = URI.create(resource).resolve(include.group(1)).getPath();
      if (RuntimeKernels.class.getClassLoader().getResource(included) == null) {
        throw new IllegalStateException(resource + " includes \"" + include.group(1) + "\", but " + included
            + " is not on the class path");
      }
      long line = text.substring(0, include.end()).chars().filter(c -> c == '\n').count() + 2;
      String replacement = seen.add(included)
          ? "#line 1 \"" + included + "\"\n" + expand(included, seen) + "\n#line " + line + " \"" + resource + "\""
          : "";
      include.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    include.appendTail(out);
    return out.toString();
  }

  private static String read(String resource) {
    try (InputStream in = RuntimeKernels.class.getClassLoader().getResourceAsStream(resource)) {
      return new String(Objects.requireNonNull(in, "no resource " + resource).readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The driver's handle of device {@code ordinal} (PyTorch's device index). */
  private static int deviceHandle(int ordinal) {
    int[] handle = {0};
    check(cudart.cuDeviceGet(handle, ordinal), "cuDeviceGet " + ordinal);
    return handle[0];
  }

  /** The device's primary context, the one PyTorch works in; retained once, for the process. */
  private static CUctx_st primary(int device) {
    return PRIMARY.computeIfAbsent(device, d -> {
      CUctx_st context = new CUctx_st();
      check(cudart.cuDevicePrimaryCtxRetain(context, deviceHandle(d)), "cuDevicePrimaryCtxRetain");
      return context;
    });
  }

  /**
   * Runs {@code work} with the device's primary context current. A thread may hold another device's context (a
   * device guard restored it) or none (autograd's device thread); the thread's own is restored afterwards.
   */
  private static void inContext(int device, Runnable work) {
    CUctx_st target = primary(device);
    CUctx_st current = new CUctx_st();
    check(cudart.cuCtxGetCurrent(current), "cuCtxGetCurrent");
    if (current.address() == target.address()) {
      work.run();
      return;
    }
    check(cudart.cuCtxPushCurrent(target), "cuCtxPushCurrent");
    try {
      work.run();
    } finally {
      cudart.cuCtxPopCurrent(new CUctx_st());
    }
  }

  private static void check(int status, String what) {
    if (status != CUDA_SUCCESS) {
      BytePointer message = new BytePointer((Pointer) null);
      cudart.cuGetErrorString(status, message);
      throw new IllegalStateException("CUDA driver error " + status + " in " + what
          + (message.isNull() ? "" : ": " + message.getString()));
    }
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException(what);
    }
  }

  private static void nvrtcCheck(int status, String what) {
    if (status != nvrtc.NVRTC_SUCCESS) {
      throw new IllegalStateException("NVRTC error in " + what + ": " + nvrtc.nvrtcGetErrorString(status).getString());
    }
  }

  static final ThreadLocal<Arguments> ARGUMENTS = ThreadLocal.withInitial(Arguments::new);

  /**
   * A thread's argument block for launches, allocated once: eight bytes per argument and the array of pointers to
   * them that {@code cuLaunchKernel} reads, so a launch allocates nothing.
   */
  static final class Arguments {
    static final int SLOTS = 32;
    final BytePointer values = new BytePointer(8L * SLOTS);
    final PointerPointer<Pointer> pointers = new PointerPointer<>(SLOTS);

    Arguments() {
      values.retainReference();   // for the thread's life, whatever scope it was first used in
      pointers.retainReference();
      for (int i = 0; i < SLOTS; i++) {
        pointers.put(i, new At(values.address() + 8L * i));
      }
    }

    void put(String kernel, int index, Object argument) {
      long at = 8L * index;
      if (argument instanceof Tensor tensor) {
        values.putLong(at, tensor.data_ptr().address());
      } else if (argument instanceof Integer number) {
        values.putInt(at, number);
      } else if (argument instanceof Long number) {
        values.putLong(at, number);
      } else if (argument instanceof Float number) {
        values.putFloat(at, number);
      } else {
        throw new IllegalArgumentException(kernel + ": argument " + index + " is "
            + (argument == null ? "null" : "a " + argument.getClass().getName())
            + "; kernels take tensors, ints, longs and floats");
      }
    }
  }

  /** A pointer to a given address, owning nothing. */
  private static final class At extends Pointer {
    At(long address) {
      this.address = address;
    }
  }

  /** The blocks of a launch, {@code x} by {@code y}. */
  public record Grid(int x, int y) {}

  public static Grid grid(long x, long y) {
    return new Grid(Math.toIntExact(x), Math.toIntExact(y));
  }

  /** A compiled program: launch its kernels by name. */
  public static final class Module {
    private final String resource;
    private final CUmod_st module;
    private final int device;
    private final Map<String, CUfunc_st> functions = new ConcurrentHashMap<>();
    private final Map<String, Integer> resident = new ConcurrentHashMap<>();

    private Module(String resource, CUmod_st module, int device) {
      this.resource = resource;
      this.module = module;
      this.device = device;
    }

    /**
     * Launches {@code kernel} on the default stream; returns at once (the work runs in order with PyTorch's).
     *
     * @param arguments {@link Tensor}s (their data pointers), {@link Integer}s, {@link Long}s and {@link Float}s, in
     *     the kernel's order
     */
    public void launch(String kernel, Grid grid, int threads, int sharedBytes, Object... arguments) {
      CUfunc_st function = functions.computeIfAbsent(kernel, this::function);
      Arguments slots = ARGUMENTS.get();
      if (arguments.length > Arguments.SLOTS) {
        throw new IllegalArgumentException(kernel + ": at most " + Arguments.SLOTS + " arguments");
      }
      for (int i = 0; i < arguments.length; i++) {
        slots.put(kernel, i, arguments[i]);
      }
      inContext(device, () -> check(cudart.cuLaunchKernel(function, grid.x(), grid.y(), 1, threads, 1, 1,
          sharedBytes, null, slots.pointers, (PointerPointer<?>) null), "launch " + kernel + " of " + resource));
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
        int[] multiprocessors = {0};
        inContext(device, () -> check(cudart.cuOccupancyMaxActiveBlocksPerMultiprocessor(perMultiprocessor, function,
            threads, sharedBytes), "occupancy of " + kernel + " of " + resource));
        check(cudart.cuDeviceGetAttribute(multiprocessors, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
            deviceHandle(device)), "multiprocessor count");
        return perMultiprocessor[0] * multiprocessors[0];
      });
    }

    private CUfunc_st function(String kernel) {
      CUfunc_st function = new CUfunc_st();
      check(cudart.cuModuleGetFunction(function, module, kernel), "find kernel " + kernel + " in " + resource);
      return function;
    }
  }
}
