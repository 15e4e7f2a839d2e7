package org.fastllm.modules.layer;

/**
 * A decoding state of a batch from which finished sequences can be dropped, so that the steps that follow compute
 * only the rows still going.
 *
 * <pre>{@code
 * // given DecodeState joined
 * if (joined instanceof SelectableRows rows) {
 *   rows.keepRows(new int[] {0, 2});   // row 1 is done: rows 0 and 2 become rows 0 and 1
 * }
 * }</pre>
 *
 * <p><b>A kept row continues exactly as before</b>; only the batch shrinks.
 */
public interface SelectableRows extends DecodeState {
  /** Keeps the rows {@code rows} (indices in increasing order), which become rows 0, 1, ... of the batch. */
  void keepRows(int[] rows);
}
