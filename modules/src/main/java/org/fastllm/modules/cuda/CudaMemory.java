package org.fastllm.modules.cuda;

import java.util.Optional;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * A CUDA device's free and total memory, as the runtime reports it ({@code cudaMemGetInfo}). The first call in a
 * process creates the device's context, which holds some memory until the process ends.
 *
 * <pre>{@code
 * long free = CudaMemory.of(0).map(CudaMemory.Info::free).orElse(-1L);
 * }</pre>
 */
public final class CudaMemory {
  private CudaMemory() {}

  /** Bytes free on a device now, and all it has. */
  public record Info(long free, long total) {}

  /** The memory of device {@code index}; empty where CUDA cannot answer (no driver, no device). */
  public static Optional<Info> of(int index) {
    try (PointerScope scope = new PointerScope()) {
      int[] previous = new int[1];
      if (cudart.cudaGetDevice(previous) != cudart.cudaSuccess || cudart.cudaSetDevice(index) != cudart.cudaSuccess) {
        return Optional.empty();
      }
      SizeTPointer free = new SizeTPointer(1);
      SizeTPointer total = new SizeTPointer(1);
      int status = cudart.cudaMemGetInfo(free, total);
      cudart.cudaSetDevice(previous[0]);
      return status == cudart.cudaSuccess ? Optional.of(new Info(free.get(), total.get())) : Optional.empty();
    } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
      return Optional.empty();
    }
  }
}
