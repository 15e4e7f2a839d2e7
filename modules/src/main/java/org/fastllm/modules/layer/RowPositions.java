package org.fastllm.modules.layer;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * How many positions each sequence of a decoding batch has seen: the position of its next token. Sequences decoded
 * together from the start have the same count; a batch joined from prompts of different lengths has one per row.
 *
 * <pre>{@code
 * // given org.bytedeco.pytorch.Device device
 * RowPositions rows = RowPositions.of(5, 2, 7);            // three prompts of 5, 2 and 7 tokens
 * Tensor next = rows.of(1, device);                      // [[5], [2], [7]]: where each row's next token stands
 * RowPositions after = rows.advanced(1);                 // 6, 3, 8
 * }</pre>
 *
 * <p><b>Immutable; the counts are kept on the Java side</b>, so that a step asks the device for nothing.
 */
public final class RowPositions {
  private final long[] seen;

  private RowPositions(long[] seen) {
    this.seen = seen;
  }

  /** One count per row, in batch order. */
  public static RowPositions of(long... seen) {
    if (seen.length == 0) {
      throw new IllegalArgumentException("a batch has at least one row");
    }
    return new RowPositions(seen.clone());
  }

  /** {@code batch} rows that have all seen {@code seen} positions. */
  public static RowPositions uniform(long batch, long seen) {
    long[] all = new long[Math.toIntExact(batch)];
    Arrays.fill(all, seen);
    return new RowPositions(all);
  }

  /** The rows of {@code parts} one after another. */
  public static RowPositions joined(List<RowPositions> parts) {
    return new RowPositions(parts.stream().flatMapToLong(p -> Arrays.stream(p.seen)).toArray());
  }

  /** The number of rows. */
  public int batch() {
    return seen.length;
  }

  /** The count of row {@code row}. */
  public long seen(int row) {
    return seen[row];
  }

  /** True when every row has seen the same number of positions. */
  public boolean uniform() {
    return Arrays.stream(seen).allMatch(s -> s == seen[0]);
  }

  /** The largest count. */
  public long most() {
    return Arrays.stream(seen).max().orElseThrow();
  }

  /** The counts of rows {@code rows}, in that order. */
  public RowPositions kept(int[] rows) {
    return new RowPositions(Arrays.stream(rows).mapToLong(r -> seen[r]).toArray());
  }

  /** {@code [rows.length]} longs on {@code device}: the row indices, for {@code index_select}. */
  public static Tensor indices(int[] rows, Device device) {
    return new RowPositions(Arrays.stream(rows).mapToLong(r -> r).toArray()).counts(device);
  }

  /** Every count increased by {@code positions}. */
  public RowPositions advanced(long positions) {
    return new RowPositions(Arrays.stream(seen).map(s -> s + positions).toArray());
  }

  /**
   * {@code [batch, time]} longs on {@code device}: the positions of each row's next {@code time} tokens, from its
   * count on.
   */
  public Tensor of(long time, Device device) {
    return counts(device).unsqueeze(1)
        .add(torch.arange(new Scalar(time), longs(device)).unsqueeze(0));
  }

  /** {@code [batch]} longs on {@code device}: the counts. */
  public Tensor counts(Device device) {
    try (LongPointer values = new LongPointer(seen)) {
      Tensor cpu = torch.from_blob(values, new long[] {seen.length}, new TensorOptions(torch.ScalarType.Long))
          .clone();
      return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Long);
    }
  }

  private static TensorOptions longs(Device device) {
    return new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
  }

  @Override
  public String toString() {
    return Arrays.toString(seen);
  }
}
