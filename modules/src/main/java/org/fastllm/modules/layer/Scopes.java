package org.fastllm.modules.layer;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Runs a piece of a forward pass in a pointer scope of its own, so the Java handles it made (and the memory of the
 * tensors autograd did not save) are released when it returns, as Python drops a function's temporaries; only the
 * result outlives it, owned by the enclosing scope.
 *
 * <pre>{@code
 * // given SequenceLayer layer, Tensor x, Adapters adapters
 * Tensor y = Scopes.scoped(() -> layer.forward(x, adapters));
 * }</pre>
 *
 * <p>A hand-written kernel's backward that reads tensors of the forward must save them
 * ({@code context.tape().attach(output, inputs, saved, backward)}, see {@code BackwardTape}).
 */
public final class Scopes {
  private Scopes() {}

  /** The tensor {@code work} returns, its other handles released; owned by the enclosing scope, if any. */
  public static Tensor scoped(Supplier<Tensor> work) {
    PointerScope outer = PointerScope.getInnerScope();
    Tensor kept;
    try (PointerScope inner = new PointerScope()) {
      kept = new Tensor(work.get());   // a handle made in this scope, whatever work returned
      kept.retainReference();
      inner.detach(kept);
    }
    if (outer != null) {
      outer.attach(kept);
      kept.releaseReference();
    }
    return kept;
  }
}
