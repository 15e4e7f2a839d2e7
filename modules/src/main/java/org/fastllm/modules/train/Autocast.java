package org.fastllm.modules.train;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * CUDA autocast switched for a block: on entry the block's setting, on close the one before it, whatever happens
 * in between.
 *
 * <pre>{@code
 * // given Device device, LanguageModel model, BatchSampler.Batch batch
 * try (Autocast scope = Autocast.bf16(device, true)) {
 *   model.loss(batch.inputs(), batch.targets()).backward();   // matrix products in bfloat16 on CUDA
 * }                                                           // autocast as it was
 * }</pre>
 *
 * <p><b>The cast cache stays off inside:</b> the weights change in place at every step, so a cached bfloat16 cast
 * would go stale. Off CUDA the scope changes nothing (CPU runs stay in float32).
 */
public final class Autocast implements AutoCloseable {
  private static final torch.DeviceType CUDA = torch.DeviceType.CUDA;
  private final boolean changed;
  private final boolean wasEnabled;
  private final torch.ScalarType previousType;
  private final boolean previousCache;

  private Autocast(boolean changed) {
    this.changed = changed;
    this.wasEnabled = changed && torch.is_autocast_enabled(CUDA);
    this.previousType = changed ? torch.get_autocast_dtype(CUDA) : null;
    this.previousCache = changed && torch.is_autocast_cache_enabled();
  }

  /** bf16 autocast of CUDA operations in the block when {@code on}, none when not; nothing changes off CUDA. */
  public static Autocast bf16(Device device, boolean on) {
    Autocast scope = new Autocast(device.is_cuda());
    if (scope.changed) {
      torch.set_autocast_enabled(CUDA, on);
      if (on) {
        torch.set_autocast_dtype(CUDA, torch.ScalarType.BFloat16);
        torch.set_autocast_cache_enabled(false);
      }
    }
    return scope;
  }

  /** Puts back the autocast setting from before the block. */
  @Override
  public void close() {
    if (changed) {
      torch.set_autocast_enabled(CUDA, wasEnabled);
      torch.set_autocast_dtype(CUDA, previousType);
      torch.set_autocast_cache_enabled(previousCache);
    }
  }
}
