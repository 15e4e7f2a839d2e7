package org.fastllm.modules.distributed;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Makes a tensor the mean of its values over the processes of a data-parallel run, in place.
 *
 * <pre>{@code
 * // given AdamW optimizer, GradientSync sync
 * optimizer.averageGradients(sync);  // each group's flat gradient buffer, once per step
 * }</pre>
 *
 * <p><b>Every process must call {@link #average} on the same tensors in the same order</b>, or the run hangs.
 */
public interface GradientSync extends AutoCloseable {
  /** The single-process sync: nothing to average. */
  GradientSync NONE = new GradientSync() {
    @Override
    public int worldSize() {
      return 1;
    }

    @Override
    public void average(Tensor tensor) {}
  };

  int worldSize();

  /** Replaces {@code tensor} (contiguous) by its mean over all processes; returns when the result is usable. */
  void average(Tensor tensor);

  /**
   * A scalar as a double, averaged over the processes: every process's shard of a batch is the same size
   * ({@link BatchShare}), so the mean of the shards' mean losses is the mean loss of the whole batch.
   */
  default Tensor meanOverProcesses(Tensor scalar) {
    Tensor value = scalar.to(torch.ScalarType.Double);
    if (worldSize() == 1) {
      return value;
    }
    Tensor flat = value.reshape(new long[] {1}).clone();
    average(flat);
    return flat.select(0, 0);
  }

  @Override
  default void close() {}
}
