package org.fastllm.modules.attention;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.Linear;

/**
 * The query and key/value projections of an attention layer as one matrix product, for decoding steps: the two
 * weights (and biases) stacked, {@code [q; k; v]} along the output features.
 *
 * <pre>{@code
 * // given Linear query, Linear keyValue, Tensor x
 * Tensor qkv = new JoinedProjection(query, keyValue).apply(x);  // [b, t, (heads + 2 * groups) * head_size]
 * }</pre>
 *
 * <p>Why: a decoding step of a small batch is bound by the host's cost per operation, not by the products; one
 * product in place of two, and one rotation of queries and keys together, leave a third of an attention layer's
 * operations out. <b>The stacked copy is made again whenever either weight changed</b> (an optimizer step, a load, a
 * move to another device or type: its version or its data pointer differs), so it never serves stale weights; it
 * costs the memory of those two weights once more while held.
 */
final class JoinedProjection implements AutoCloseable {
  private final Linear query;
  private final Linear keyValue;
  private final KeptTensor weight = new KeptTensor();
  private final KeptTensor bias = new KeptTensor();
  private long[] madeFrom = new long[0];

  JoinedProjection(Linear query, Linear keyValue) {
    this.query = query;
    this.keyValue = keyValue;
  }

  /** {@code input} {@code [b, t, H]} projected to the queries, keys and values, one after another. */
  Tensor apply(Tensor input) {
    long[] now = state();
    if (!java.util.Arrays.equals(now, madeFrom)) {
      stack();
      madeFrom = now;
    }
    return bias.isSet() ? torch.linear(input, weight.get(), new TensorOptional(bias.get()))
        : torch.linear(input, weight.get());
  }

  /** What identifies the weights' values: each tensor's version counter and data address. */
  private long[] state() {
    Tensor q = query.weight();
    Tensor kv = keyValue.weight();
    try (PointerScope scope = new PointerScope()) {
      return new long[] {q._version(), q.data_ptr().address(), kv._version(), kv.data_ptr().address(),
          query.bias() == null ? 0 : query.bias()._version(), keyValue.bias() == null ? 0 : keyValue.bias()._version()};
    }
  }

  private void stack() {
    try (PointerScope scope = new PointerScope()) {
      weight.set(torch.cat(new TensorVector(query.weight(), keyValue.weight()), 0));
      if (query.bias() != null) {
        bias.set(torch.cat(new TensorVector(query.bias(), keyValue.bias()), 0));
      }
    }
  }

  @Override
  public void close() {
    weight.close();
    bias.close();
  }
}
