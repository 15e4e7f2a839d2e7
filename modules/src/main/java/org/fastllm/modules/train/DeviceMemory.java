package org.fastllm.modules.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;

/**
 * GPU memory held in tensors, as PyTorch's caching allocator counts it ({@code torch.cuda.max_memory_allocated}).
 *
 * <pre>{@code
 * // given Device device
 * Long peak = DeviceMemory.peakSinceLastCall(device);   // null off CUDA
 * }</pre>
 */
final class DeviceMemory {
  private DeviceMemory() {}

  /** The most bytes in tensors on {@code device} at once since the previous call (or the start); null off CUDA. */
  static Long peakSinceLastCall(Device device) {
    if (!device.is_cuda()) {
      return null;
    }
    byte index = (byte) Math.max(device.index(), 0);
    var allocator = torch_cuda.getDeviceAllocator(torch.DeviceType.CUDA);
    long peak = allocator.getDeviceStats(index).allocated_bytes().peak();
    allocator.resetPeakStats(index);
    return peak;
  }
}
