package org.fastllm.modules.cuda;

import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static org.bytedeco.cuda.global.cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.cuda.global.nvrtc;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * Compiles a kernel resource with NVRTC to CUBIN for one device's architecture, with constants as {@code -D}
 * definitions, and loads it into the device's primary context.
 *
 * <pre>{@code KernelModule norm = NvrtcCompiler.compile("org/fastllm/modules/norm/norm.cu", 0, Map.of("RMS", 1));}</pre>
 *
 * <p>Takes a few hundred milliseconds; {@link RuntimeKernels} keeps what it made for the process.
 */
final class NvrtcCompiler {
  private NvrtcCompiler() {}

  /** @throws IllegalStateException with NVRTC's log when the source does not compile */
  static KernelModule compile(String resource, int device, Map<String, Integer> constants) {
    String source = KernelSource.inline(resource);
    int major = CudaDriver.attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    int minor = CudaDriver.attribute(device, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    List<String> options = new ArrayList<>(List.of("--gpu-architecture=sm_" + major + minor, "--std=c++17"));
    new TreeMap<>(constants).forEach((name, value) -> options.add("-D" + name + "=" + value));
    try (PointerScope scope = new PointerScope()) {
      BytePointer cubin = cubin(resource, source, options);
      CUmod_st module = new CUmod_st();
      CudaDriver.inContext(device, () -> CudaDriver.check(cudart.cuModuleLoadData(module, cubin),
          "load the compiled " + resource));
      return new KernelModule(resource, module, device, KernelSignature.parseAll(source));
    }
  }

  private static BytePointer cubin(String resource, String source, List<String> options) {
    _nvrtcProgram program = new _nvrtcProgram();
    check(nvrtc.nvrtcCreateProgram(program, new BytePointer(source, StandardCharsets.UTF_8),
        new BytePointer(resource), 0, (PointerPointer<?>) null, (PointerPointer<?>) null), "create " + resource);
    try {
      PointerPointer<BytePointer> optionPointers = new PointerPointer<>(options.size());
      for (int i = 0; i < options.size(); i++) {
        optionPointers.put(i, new BytePointer(options.get(i)));
      }
      if (nvrtc.nvrtcCompileProgram(program, options.size(), optionPointers) != nvrtc.NVRTC_SUCCESS) {
        throw new IllegalStateException("NVRTC could not compile " + resource + " with " + options + ":\n"
            + log(program));
      }
      SizeTPointer size = new SizeTPointer(1);
      check(nvrtc.nvrtcGetCUBINSize(program, size), "CUBIN size");
      BytePointer cubin = new BytePointer(size.get());
      check(nvrtc.nvrtcGetCUBIN(program, cubin), "CUBIN");
      return cubin;
    } finally {
      nvrtc.nvrtcDestroyProgram(program);
    }
  }

  private static String log(_nvrtcProgram program) {
    SizeTPointer size = new SizeTPointer(1);
    nvrtc.nvrtcGetProgramLogSize(program, size);
    BytePointer log = new BytePointer(size.get());
    nvrtc.nvrtcGetProgramLog(program, log);
    return log.getString(StandardCharsets.UTF_8).replace("\0", "");   // the size counts the final NUL
  }

  private static void check(int status, String what) {
    if (status != nvrtc.NVRTC_SUCCESS) {
      throw new IllegalStateException("NVRTC error in " + what + ": " + nvrtc.nvrtcGetErrorString(status).getString());
    }
  }
}
