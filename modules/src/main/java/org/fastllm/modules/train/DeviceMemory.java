package org.fastllm.modules.train;

import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.cuda.DeviceStats;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;
import org.fastllm.modules.cuda.CudaMemory;

/**
 * GPU memory held in tensors, as PyTorch's caching allocator counts it ({@code torch.cuda.max_memory_allocated}),
 * and a device's free and total memory, as the CUDA driver reports it ({@code cudaMemGetInfo}).
 *
 * <pre>{@code
 * // given Device device
 * Long peak = DeviceMemory.peakSinceLastCall(device);   // null off CUDA
 * long free = DeviceMemory.cuda(0).map(DeviceMemory.Free::free).orElse(-1L);
 * }</pre>
 */
public final class DeviceMemory {
  private DeviceMemory() {}

  /** Bytes free on a device now, and all it has. */
  public record Free(long free, long total) {}

  /** The free and total memory of CUDA device {@code index}; empty where CUDA cannot answer (no driver, no device). */
  public static Optional<Free> cuda(int index) {
    return CudaMemory.of(index).map(info -> new Free(info.free(), info.total()));
  }

  /** The bytes PyTorch's allocator holds from CUDA on {@code device} now, in use or cached; 0 off CUDA. */
  static long reservedNow(Device device) {
    if (!device.is_cuda()) {
      return 0;
    }
    return stats(device).reserved_bytes().current();
  }

  private static DeviceStats stats(Device device) {
    return torch_cuda.getDeviceAllocator(torch.DeviceType.CUDA).getDeviceStats((byte) Math.max(device.index(), 0));
  }

  /** The most bytes in tensors on {@code device} at once since the previous call (or the start); null off CUDA. */
  static Long peakSinceLastCall(Device device) {
    if (!device.is_cuda()) {
      return null;
    }
    long peak = stats(device).allocated_bytes().peak();
    torch_cuda.getDeviceAllocator(torch.DeviceType.CUDA).resetPeakStats((byte) Math.max(device.index(), 0));
    return peak;
  }
}
