package org.fastllm.modules.layer;

import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A tensor that outlives the pointer scope it was made in, for state kept across calls (a decoding cache): each
 * {@link #set} releases the tensor held before, {@link #close()} the last one. Once {@link #fix fixed}, a set
 * copies the new values into the tensor held instead: its memory stays where it is, which is what a CUDA graph
 * replaying a decoding step reads and writes.
 *
 * <pre>{@code
 * // given Tensor keys
 * try (KeptTensor cache = new KeptTensor()) {
 *   try (var step = new org.bytedeco.javacpp.PointerScope()) {
 *     cache.set(keys.mul(new org.bytedeco.pytorch.Scalar(2.0)));   // survives the step's scope
 *   }
 *   Tensor kept = cache.get();
 * }
 * }</pre>
 */
public final class KeptTensor implements AutoCloseable {
  private Tensor tensor;
  private boolean fixed;

  /** The tensor held, or null before the first {@link #set}. */
  public Tensor get() {
    return tensor;
  }

  /** True once a tensor is held. */
  public boolean isSet() {
    return tensor != null;
  }

  /**
   * Holds {@code value} (a new handle to it, owned here) and releases the tensor held before; once {@link #fix
   * fixed}, copies {@code value} into the tensor held.
   *
   * @throws IllegalArgumentException when fixed and {@code value}'s shape is not the held tensor's
   */
  public void set(Tensor value) {
    if (fixed) {
      long[] held = tensor.sizes().vec().get();
      long[] given = value.sizes().vec().get();
      if (!Arrays.equals(held, given)) {
        throw new IllegalArgumentException("a fixed state's tensor keeps its shape " + Arrays.toString(held)
            + ", not " + Arrays.toString(given));
      }
      tensor.copy_(value);
      return;
    }
    Tensor kept = new Tensor(value);
    kept.retainReference();
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      scope.detach(kept);
    }
    close();
    tensor = kept;
  }

  /**
   * From now on, {@link #set} writes into the tensor held, which keeps its memory for as long as this holds it.
   *
   * @throws IllegalStateException before the first {@link #set}
   */
  public void fix() {
    if (tensor == null) {
      throw new IllegalStateException("nothing is held to fix");
    }
    fixed = true;
  }

  @Override
  public void close() {
    fixed = false;
    if (tensor != null) {
      tensor.releaseReference();
      tensor = null;
    }
  }
}
