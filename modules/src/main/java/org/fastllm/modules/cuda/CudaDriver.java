package org.fastllm.modules.cuda;

import static org.bytedeco.cuda.global.cudart.CUDA_SUCCESS;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA driver calls the kernels need: device handles and attributes, and the device's primary context (the one
 * PyTorch works in), made current around a piece of work.
 *
 * <pre>{@code
 * // given Runnable loadModule
 * CudaDriver.inContext(0, loadModule);   // device 0's primary context is current while it runs
 * }</pre>
 */
final class CudaDriver {
  private static final Map<Integer, CUctx_st> PRIMARY = new ConcurrentHashMap<>();

  private CudaDriver() {}

  /** The driver's handle of device {@code ordinal} (PyTorch's device index). */
  static int deviceHandle(int ordinal) {
    int[] handle = {0};
    check(cudart.cuDeviceGet(handle, ordinal), "cuDeviceGet " + ordinal);
    return handle[0];
  }

  /** One of the device's {@code CU_DEVICE_ATTRIBUTE_*} values. */
  static int attribute(int device, int attribute) {
    int[] value = {0};
    check(cudart.cuDeviceGetAttribute(value, attribute, deviceHandle(device)), "cuDeviceGetAttribute " + attribute);
    return value[0];
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
  static void inContext(int device, Runnable work) {
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

  /** @throws IllegalStateException with the driver's own words when {@code status} is not success */
  static void check(int status, String what) {
    if (status != CUDA_SUCCESS) {
      BytePointer message = new BytePointer((Pointer) null);
      cudart.cuGetErrorString(status, message);
      throw new IllegalStateException("CUDA driver error " + status + " in " + what
          + (message.isNull() ? "" : ": " + message.getString()));
    }
  }
}
