package org.fastllm.modules.attention;

import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.StaticState;

/**
 * The decoding state of one causal attention layer: the rotated keys and the values {@code [b, groups, n, head_size]}
 * of the positions seen, once per key/value group (the query heads of a group read the same entries), and the count
 * of positions seen, which is the rotary offset of the next one.
 *
 * <pre>{@code
 * // given Tensor keys, Tensor values
 * try (KeyValueCache cache = new KeyValueCache(4)) {
 *   KeyValueCache.Visible visible = cache.extend(keys, values);   // what the new queries may attend to
 * }
 * }</pre>
 *
 * <p>New entries are written in place into buffers allocated ahead, so a decoded position costs no copy of the
 * context: without a window the buffers hold every position and double when full; <b>with a window of {@code w}
 * they are a ring of {@code w} positions</b>, position {@code p} at slot {@code p mod w}, whatever the context.
 * The keys are stored rotated, so the order in the ring does not matter to a single new query, which sees every
 * slot; a step of several positions reads the ring in position order.
 *
 * <p><b>Fixed</b> ({@link StaticState}), the buffers hold every slot a sequence of the given capacity needs (or the
 * window), allocated at once; a one-position step writes its entry at the slot of the device's position tensor and
 * its query sees every slot, masked to those filled ({@link Visible#slots}), so that the same step, recorded once,
 * decodes any position.
 */
final class KeyValueCache implements JoinableState, StaticState {
  /** The fewest positions a growing buffer is allocated for beyond those it must hold. */
  static final long MIN_MARGIN = 64;
  private final KeptTensor keys = new KeptTensor();
  private final KeptTensor values = new KeptTensor();
  private final KeptTensor slotIndices = new KeptTensor();
  /** Fixed: the rotary tables a recorded step reads, kept for as long as the cache is. */
  final KeptTensor[] rotaryTables = {new KeptTensor(), new KeptTensor()};
  private long limit;
  private final int window;
  private long seen;
  private Tensor position;   // fixed: the device's position of the next one-position step (not owned)

  /**
   * What the new queries of a step attend to.
   *
   * @param keys the keys {@code [b, groups, n, head_size]}
   * @param values the values, in the order of the keys
   * @param unmasked true when the step has one query and it may see every key (in any order); false when the keys
   *     are consecutive positions ending at the step's own, to be masked as {@link AttentionMask#allowed} says
   * @param slots null, or for a fixed cache's one-position step the slots its query sees {@code [n]} (boolean):
   *     every key and value slot is given, those not yet written masked out
   */
  record Visible(Tensor keys, Tensor values, boolean unmasked, Tensor slots) {
    Visible(Tensor keys, Tensor values, boolean unmasked) {
      this(keys, values, unmasked, null);
    }
  }

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
    return window > 0 ? Math.min(seen, window) : seen;
  }

  /** The positions the buffers have room for: at most the window, if there is one. */
  long capacity() {
    return keys.isSet() ? keys.get().size(2) : 0;
  }

  /**
   * Adds {@code newKeys} and {@code newValues} {@code [b, groups, t, head_size]} (the next {@code t} positions) and
   * returns what their queries may see; the cache then counts them as seen.
   */
  Visible extend(Tensor newKeys, Tensor newValues) {
    if (position != null && newKeys.size(2) == 1) {
      return extendAt(newKeys, newValues);
    }
    return window > 0 ? extendRing(newKeys, newValues) : extendGrowing(newKeys, newValues);
  }

  private Visible extendGrowing(Tensor newKeys, Tensor newValues) {
    long time = newKeys.size(2);
    long needed = seen + time;
    if (capacity() < needed) {
      long grown = Math.max(2 * capacity(), needed + Math.max(needed, MIN_MARGIN));
      grow(keys, newKeys, grown);
      grow(values, newValues, grown);
    }
    keys.get().narrow(2, seen, time).copy_(newKeys);
    values.get().narrow(2, seen, time).copy_(newValues);
    seen = needed;
    return new Visible(keys.get().narrow(2, 0, seen), values.get().narrow(2, 0, seen), time == 1);
  }

  /** A buffer of {@code capacity} positions like {@code like}, holding the {@link #seen} positions held before. */
  private void grow(KeptTensor held, Tensor like, long capacity) {
    Tensor buffer = like.new_empty(like.size(0), like.size(1), capacity, like.size(3));
    if (seen > 0) {
      buffer.narrow(2, 0, seen).copy_(held.get().narrow(2, 0, seen));
    }
    held.set(buffer);
  }

  private Visible extendRing(Tensor newKeys, Tensor newValues) {
    long time = newKeys.size(2);
    if (!keys.isSet()) {
      keys.set(newKeys.new_empty(newKeys.size(0), newKeys.size(1), window, newKeys.size(3)));
      values.set(newValues.new_empty(newValues.size(0), newValues.size(1), window, newValues.size(3)));
    }
    if (time == 1) {
      writeRing(keys.get(), newKeys);
      writeRing(values.get(), newValues);
      seen += 1;
      long held = Math.min(seen, window);
      return new Visible(keys.get().narrow(2, 0, held), values.get().narrow(2, 0, held), true);
    }
    // the slots are read (copied, in position order) before the new positions overwrite them
    Tensor allKeys = inOrder(keys.get(), newKeys);
    Tensor allValues = inOrder(values.get(), newValues);
    writeRing(keys.get(), newKeys);
    writeRing(values.get(), newValues);
    seen += time;
    return new Visible(allKeys, allValues, false);
  }

  /** The held positions oldest first, then {@code next}. */
  private Tensor inOrder(Tensor ring, Tensor next) {
    long held = Math.min(seen, window);
    if (held == 0) {
      return next;
    }
    long oldest = seen <= window ? 0 : seen % window;
    if (oldest == 0) {
      return torch.cat(new TensorVector(ring.narrow(2, 0, held), next), 2);
    }
    return torch.cat(new TensorVector(ring.narrow(2, oldest, window - oldest), ring.narrow(2, 0, oldest), next), 2);
  }

  /** Writes the last (at most {@code window}) of the positions {@code seen ..} of {@code next} at their slots. */
  private void writeRing(Tensor ring, Tensor next) {
    long time = next.size(2);
    long kept = Math.min(time, window);
    long first = seen + time - kept;
    long slot = first % window;
    long beforeEnd = Math.min(kept, window - slot);
    ring.narrow(2, slot, beforeEnd).copy_(next.narrow(2, time - kept, beforeEnd));
    if (beforeEnd < kept) {
      ring.narrow(2, 0, kept - beforeEnd).copy_(next.narrow(2, time - kept + beforeEnd, kept - beforeEnd));
    }
  }

  /** True once {@link #fix fixed}: one-position steps go to the slot of the position tensor. */
  boolean fixed() {
    return position != null;
  }

  /** The fixed cache's position tensor, null before {@link #fix}. */
  Tensor position() {
    return position;
  }

  @Override
  public void fix(long capacity, Tensor at) {
    if (capacity < seen) {
      throw new IllegalArgumentException("a cache of " + capacity + " positions cannot hold the " + seen + " seen");
    }
    long slots = window > 0 ? window : capacity;
    if (!keys.isSet()) {
      throw new IllegalStateException("a cache is fixed after its first step");
    }
    if (window == 0 && capacity() < slots) {
      grow(keys, keys.get(), slots);
      grow(values, values.get(), slots);
    }
    // slots not yet written are masked out, and zero: a masked weight of 0 times an unset NaN would still be NaN
    long held = cached();
    long allocated = capacity();
    if (held < allocated) {
      keys.get().narrow(2, held, allocated - held).zero_();
      values.get().narrow(2, held, allocated - held).zero_();
    }
    TensorOptions longs = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(keys.get().device()));
    slotIndices.set(torch.arange(new Scalar(keys.get().size(2)), longs));
    position = at;
    limit = capacity;
  }

  /** A fixed cache's capacity: the positions a sequence may reach. */
  long limit() {
    return limit;
  }

  @Override
  public void seen(long positions) {
    seen = positions;
  }

  /** A fixed cache's one-position step: the entry written at the position's slot, every slot visible, masked. */
  private Visible extendAt(Tensor newKeys, Tensor newValues) {
    Tensor slot = window > 0 ? position.remainder(new Scalar(window)) : position;
    keys.get().index_copy_(2, slot, newKeys);
    values.get().index_copy_(2, slot, newValues);
    // a ring's slots are all filled from position window - 1 on; until then, and without a window, slots 0..position
    Tensor visible = slotIndices.get().le(position);
    seen += 1;
    return new Visible(keys.get(), values.get(), false, visible);
  }

  @Override
  public long bytes() {
    return keys.isSet() ? keys.get().nbytes() + values.get().nbytes() : 0;
  }

  /** The held {@code {keys, values}}, oldest position first ({@link RowKeyValueCache} joins them). */
  Tensor[] held() {
    if (window > 0) {
      long held = Math.min(seen, window);
      long oldest = seen <= window ? 0 : seen % window;
      return new Tensor[] {inOrderFrom(keys.get(), held, oldest), inOrderFrom(values.get(), held, oldest)};
    }
    return new Tensor[] {keys.get().narrow(2, 0, seen), values.get().narrow(2, 0, seen)};
  }

  private static Tensor inOrderFrom(Tensor ring, long held, long oldest) {
    return oldest == 0 ? ring.narrow(2, 0, held)
        : torch.cat(new TensorVector(ring.narrow(2, oldest, held - oldest), ring.narrow(2, 0, oldest)), 2);
  }

  @Override
  public DecodeState joinRows(List<DecodeState> rows) {
    return RowKeyValueCache.joined(rows, window);
  }

  @Override
  public void close() {
    keys.close();
    values.close();
    slotIndices.close();
    rotaryTables[0].close();
    rotaryTables[1].close();
  }
}
