package org.fastllm.modules.attention;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.RowPositions;
import org.fastllm.modules.layer.SelectableRows;

/**
 * The key/value cache of a batch joined from sequences that had seen different numbers of positions: each row's
 * entries are right-aligned {@code [b, groups, n, head_size]}, the columns before a shorter row's first entry
 * hold zeros that its queries never see, and each row counts its own positions (its rotary offset).
 *
 * <pre>{@code
 * // given List<DecodeState> rows, Tensor keys, Tensor values
 * try (RowKeyValueCache cache = RowKeyValueCache.joined(rows, 0)) {
 *   RowKeyValueCache.Visible visible = cache.extend(keys, values);   // keys, values and which each query sees
 * }
 * }</pre>
 *
 * <p><b>New positions are appended at the same column for every row</b>, so the distance between two columns is the
 * distance between their positions in every row: the causal and window rules read columns, and a row's own rule
 * adds only that it sees no column before its first entry. Without a window the columns are written in place into
 * buffers that double when full; with a window of {@code w} it holds at most
 * {@code w} columns: steps of one position write them into a ring of {@code w} slots in place, steps of several
 * keep the last {@code w - 1}, the most a later query sees besides itself. A joined cache joins again with new
 * sequences' caches ({@link #joinRows}), so that a running batch takes in new rows.
 */
final class RowKeyValueCache implements JoinableState, SelectableRows {
  private final KeptTensor keys = new KeptTensor();
  private final KeptTensor values = new KeptTensor();
  private final int window;
  private RowPositions seen;
  /** The columns in use; the buffers may have room for more. */
  private long filled;
  /** With a window, once a step of one position has run: the buffers are a ring of {@code window} slots. */
  private boolean ring;
  /** In a ring, the slot of the oldest column in use; column {@code o} (oldest first) is at slot {@code head + o}. */
  private long head;

  private RowKeyValueCache(int window, Tensor keys, Tensor values, RowPositions seen) {
    this.window = window;
    this.keys.set(keys);
    this.values.set(values);
    this.seen = seen;
    this.filled = keys.size(2);
  }

  /**
   * The joined cache of {@code rows}, in order: {@link KeyValueCache}s of one sequence each or caches joined before
   * (a running batch that new sequences join); every part's columns are right-aligned to the longest.
   */
  static RowKeyValueCache joined(List<DecodeState> rows, int window) {
    List<Tensor[]> held = rows.stream().map(RowKeyValueCache::heldColumns).toList();
    long columns = held.stream().mapToLong(h -> h[0].size(2)).max().orElseThrow();
    List<Tensor> keys = new ArrayList<>();
    List<Tensor> values = new ArrayList<>();
    for (Tensor[] part : held) {
      keys.add(rightAligned(part[0], columns));
      values.add(rightAligned(part[1], columns));
    }
    RowPositions seen = RowPositions.joined(rows.stream().map(RowKeyValueCache::seenOf).toList());
    return new RowKeyValueCache(window, torch.cat(new TensorVector(keys.toArray(Tensor[]::new)), 0),
        torch.cat(new TensorVector(values.toArray(Tensor[]::new)), 0), seen);
  }

  /** The {@code {keys, values}} columns in use of a part to join, oldest first. */
  private static Tensor[] heldColumns(DecodeState part) {
    if (part instanceof RowKeyValueCache joined) {
      return new Tensor[] {joined.inOrder(joined.keys.get()), joined.inOrder(joined.values.get())};
    }
    return ((KeyValueCache) part).held();
  }

  /** The columns in use of {@code buffer}, oldest first: a view, or in a ring that wraps a copy. */
  private Tensor inOrder(Tensor buffer) {
    if (!ring || head + filled <= window) {
      return buffer.narrow(2, ring ? head : 0, filled);
    }
    long first = window - head;
    return torch.cat(new TensorVector(buffer.narrow(2, head, first), buffer.narrow(2, 0, filled - first)), 2);
  }

  /** Leaves the ring: the columns in use, oldest first, become the buffers. */
  private void unroll() {
    if (ring) {
      Tensor orderedKeys = inOrder(keys.get()).contiguous();
      Tensor orderedValues = inOrder(values.get()).contiguous();
      keys.set(orderedKeys);
      values.set(orderedValues);
      ring = false;
      head = 0;
    }
  }

  private static RowPositions seenOf(DecodeState part) {
    return part instanceof RowKeyValueCache joined ? joined.seen : RowPositions.of(((KeyValueCache) part).seen());
  }

  /** Columns added on the left of a part are never seen: they lie before each of its rows' first entry. */
  @Override
  public DecodeState joinRows(List<DecodeState> rows) {
    return joined(rows, window);
  }

  private static Tensor rightAligned(Tensor held, long columns) {
    long missing = columns - held.size(2);
    if (missing == 0) {
      return held;
    }
    Tensor zeros = torch.zeros(new long[] {held.size(0), held.size(1), missing, held.size(3)},
        new TensorOptions(held.scalar_type()).device(new DeviceOptional(held.device())));
    return torch.cat(new TensorVector(zeros, held), 2);
  }

  /** The positions each row has seen: the rotary offsets of its next ones. */
  RowPositions seen() {
    return seen;
  }

  /**
   * What the queries of the next {@code t} positions of every row see, given their keys and values
   * {@code [b, groups, t, head_size]}; the cache then holds them and counts them as seen.
   */
  Visible extend(Tensor newKeys, Tensor newValues) {
    long time = newKeys.size(2);
    long held = filled;
    if (window > 0 && time == 1) {
      return ringStep(newKeys, newValues);
    }
    unroll();
    Tensor allowed = allowed(held, time, newKeys.device());
    seen = seen.advanced(time);
    if (window > 0) {
      Tensor allKeys = torch.cat(new TensorVector(keys.get().narrow(2, 0, held), newKeys), 2);
      Tensor allValues = torch.cat(new TensorVector(values.get().narrow(2, 0, held), newValues), 2);
      keys.set(tail(allKeys));
      values.set(tail(allValues));
      filled = keys.get().size(2);
      return new Visible(allKeys, allValues, allowed);
    }
    // without a window the columns are written in place into buffers that double when full
    if (keys.get().size(2) < held + time) {
      long capacity = Math.max(2 * keys.get().size(2), held + time + KeyValueCache.MIN_MARGIN);
      keys.set(grown(keys.get(), held, capacity));
      values.set(grown(values.get(), held, capacity));
    }
    keys.get().narrow(2, held, time).copy_(newKeys);
    values.get().narrow(2, held, time).copy_(newValues);
    filled = held + time;
    return new Visible(keys.get().narrow(2, 0, filled), values.get().narrow(2, 0, filled), allowed);
  }

  /**
   * One position of every row with a window: its column written into the ring's next slot, in place. The query sees
   * every slot in use from its row's first column on; the ring's {@code window} slots are the window itself (the
   * new column and the {@code window - 1} before it), so the oldest one is dropped afterwards without a copy.
   */
  private Visible ringStep(Tensor newKeys, Tensor newValues) {
    if (!ring) {
      keys.set(ringOf(keys.get()));
      values.set(ringOf(values.get()));
      ring = true;
      head = 0;
    }
    if (filled == window) {   // a joined sequence's ring holds all w; the new column takes the oldest one's place
      head = (head + 1) % window;
      filled = window - 1L;
    }
    long held = filled;
    long slot = (head + held) % window;
    keys.get().narrow(2, slot, 1).copy_(newKeys);
    values.get().narrow(2, slot, 1).copy_(newValues);
    Device device = newKeys.device();
    TensorOptions longs = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
    // the column (oldest first) in each slot; slots not in use count as columns after the new one
    Tensor column = torch.arange(new Scalar(window), longs).sub(new Scalar(head)).remainder(new Scalar(window))
        .view(1, window);
    Tensor first = seen.counts(device).neg().add(new Scalar(held)).view(-1, 1);
    Tensor allowed = column.le(new Scalar(held)).logical_and(column.ge(first)).view(-1, 1, 1, 1, window);
    seen = seen.advanced(1);
    if (held + 1 < window) {
      filled = held + 1;
    } else {
      head = (head + 1) % window;   // the oldest column leaves the window
      filled = window - 1L;
    }
    return new Visible(keys.get(), values.get(), allowed);
  }

  /** A ring of {@code window} slots holding the columns in use of {@code ordered} (oldest first) from slot 0. */
  private Tensor ringOf(Tensor ordered) {
    Tensor slots = torch.zeros(new long[] {ordered.size(0), ordered.size(1), window, ordered.size(3)},
        new TensorOptions(ordered.scalar_type()).device(new DeviceOptional(ordered.device())));
    slots.narrow(2, 0, filled).copy_(ordered.narrow(2, 0, filled));
    return slots;
  }

  /** A buffer of {@code capacity} columns holding the first {@code held} of {@code buffer}. */
  private static Tensor grown(Tensor buffer, long held, long capacity) {
    Tensor bigger = buffer.new_empty(buffer.size(0), buffer.size(1), capacity, buffer.size(3));
    bigger.narrow(2, 0, held).copy_(buffer.narrow(2, 0, held));
    return bigger;
  }

  /** {@code [b, 1, 1, t, held + t]}: true where a row's query {@code i} may see column {@code j}. */
  private Tensor allowed(long held, long time, Device device) {
    TensorOptions longs = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
    Tensor query = torch.arange(new Scalar(time), longs).add(new Scalar(held)).view(1, time, 1);
    Tensor column = torch.arange(new Scalar(held + time), longs).view(1, 1, held + time);
    Tensor back = query.sub(column);
    Tensor first = seen.counts(device).neg().add(new Scalar(held)).view(-1, 1, 1);
    Tensor allowed = back.ge(new Scalar(0)).logical_and(column.ge(first));
    if (window > 0) {
      allowed = allowed.logical_and(back.lt(new Scalar(window)));
    }
    return allowed.unsqueeze(1).unsqueeze(1);
  }

  /** Keeps {@code rows}; columns that none of them sees any more are dropped. */
  @Override
  public void keepRows(int[] rows) {
    unroll();
    Tensor index = RowPositions.indices(rows, keys.get().device());
    RowPositions kept = seen.kept(rows);
    long held = filled;
    long unused = Math.max(0, held - kept.most());
    keys.set(keys.get().narrow(2, unused, held - unused).index_select(0, index));
    values.set(values.get().narrow(2, unused, held - unused).index_select(0, index));
    filled = held - unused;
    seen = kept;
  }

  private Tensor tail(Tensor all) {
    long length = all.size(2);
    long keep = window > 0 ? Math.min(length, window - 1L) : length;
    return keep == length ? all.contiguous() : all.narrow(2, length - keep, keep).clone();
  }

  @Override
  public long bytes() {
    return keys.get().nbytes() + values.get().nbytes();
  }

  @Override
  public void close() {
    keys.close();
    values.close();
  }

  /** Keys and values {@code [b, groups, n, head_size]} and the mask {@code [b, 1, 1, t, n]} of the new queries. */
  record Visible(Tensor keys, Tensor values, Tensor allowed) {}
}
