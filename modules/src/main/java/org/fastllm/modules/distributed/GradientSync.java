package org.fastllm.modules.distributed;

import org.bytedeco.pytorch.Tensor;

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

  @Override
  default void close() {}
}
