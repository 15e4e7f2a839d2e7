package org.fastllm.modules.layer;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * A tensor that outlives the pointer scope it was made in, for state kept across calls (a decoding cache): each
 * {@link #set} releases the tensor held before, {@link #close()} the last one.
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

  /** The tensor held, or null before the first {@link #set}. */
  public Tensor get() {
    return tensor;
  }

  /** True once a tensor is held. */
  public boolean isSet() {
    return tensor != null;
  }

  /** Holds {@code value} (a new handle to it, owned here) and releases the tensor held before. */
  public void set(Tensor value) {
    Tensor kept = new Tensor(value);
    kept.retainReference();
    PointerScope scope = PointerScope.getInnerScope();
    if (scope != null) {
      scope.detach(kept);
    }
    close();
    tensor = kept;
  }

  @Override
  public void close() {
    if (tensor != null) {
      tensor.releaseReference();
      tensor = null;
    }
  }
}
