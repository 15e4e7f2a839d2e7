package org.fastllm.modules.attention;

import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The decoding state of one causal attention layer: the rotated keys and the values {@code [b, groups, n, head_size]}
 * of the last positions, once per key/value group (the query heads of a group read the same entries), and the count
 * of positions seen, which is the rotary offset of the next one.
 *
 * <pre>{@code
 * // given Tensor keys, Tensor values
 * try (KeyValueCache cache = new KeyValueCache(4)) {
 *   Tensor[] visible = cache.extend(keys, values);   // what the new queries may attend to
 * }
 * }</pre>
 *
 * <p><b>With a window of {@code w} it holds at most {@code w - 1} positions</b>: the most a query that follows can
 * see besides itself; without a window it holds every position seen.
 */
final class KeyValueCache implements JoinableState {
  private final KeptTensor keys = new KeptTensor();
  private final KeptTensor values = new KeptTensor();
  private final int window;
  private long seen;

  /** An empty cache for attention with a window of {@code window} positions, or 0 for none. */
  KeyValueCache(int window) {
    this.window = window;
  }

  /** The positions seen so far: the position of the next one. */
  long seen() {
    return seen;
  }

  /** The positions whose keys and values are held. */
  long cached() {
    return keys.isSet() ? keys.get().size(2) : 0;
  }

  /**
   * The held keys and values followed by {@code newKeys} and {@code newValues} {@code [b, groups, t, head_size]}
   * (the next {@code t} positions): {@code {keys, values}} covering every position a new query may see, the new
   * ones last. The cache then holds their tail and counts the new positions as seen.
   */
  Tensor[] extend(Tensor newKeys, Tensor newValues) {
    Tensor allKeys = append(keys, newKeys);
    Tensor allValues = append(values, newValues);
    keys.set(tail(allKeys));
    values.set(tail(allValues));
    seen += newKeys.size(2);
    return new Tensor[] {allKeys, allValues};
  }

  private static Tensor append(KeptTensor held, Tensor next) {
    return held.isSet() ? torch.cat(new TensorVector(held.get(), next), 2) : next;
  }

  /** What is kept of {@code all}; a trimmed tail is copied, so that no view holds the dropped positions' memory. */
  private Tensor tail(Tensor all) {
    long length = all.size(2);
    long keep = window > 0 ? Math.min(length, window - 1L) : length;
    return keep == length ? all.contiguous() : all.narrow(2, length - keep, keep).clone();
  }

  /** The held {@code {keys, values}}, oldest position first ({@link RowKeyValueCache} joins them). */
  Tensor[] held() {
    return new Tensor[] {keys.get(), values.get()};
  }

  @Override
  public DecodeState joinRows(List<DecodeState> rows) {
    return RowKeyValueCache.joined(rows, window);
  }

  @Override
  public void close() {
    keys.close();
    values.close();
  }
}
