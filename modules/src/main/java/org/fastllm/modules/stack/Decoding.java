package org.fastllm.modules.stack;

import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.StaticState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.RowPositions;
import org.fastllm.modules.layer.SelectableRows;

/**
 * The decoding state of a whole model for one batch of sequences: one {@link DecodeState} per layer (a shared
 * block keeps one per use) and the number of positions each sequence has seen. Made by
 * {@link LanguageModel#startDecoding} or, for prompts of different lengths decoded alone, joined by
 * {@link LanguageModel#joinDecoding}; {@link #close()} frees every layer's cache.
 *
 * <pre>{@code
 * // given LanguageModel model, org.bytedeco.pytorch.Tensor prompt, org.bytedeco.pytorch.Tensor nextTokens
 * try (Decoding decoding = model.startDecoding(prompt.size(0))) {
 *   var logits = model.decodeLogits(prompt, decoding);   // [b, prompt length, vocab]
 *   var next = model.decodeLogits(nextTokens, decoding);  // [b, 1, vocab] for one new token per sequence
 * }
 * }</pre>
 */
public final class Decoding implements AutoCloseable {
  private final List<DecodeState> layers;
  private final KeptTensor fixedPosition = new KeptTensor();
  private RowPositions positions;

  Decoding(List<DecodeState> layers, RowPositions positions) {
    this.layers = List.copyOf(layers);
    this.positions = positions;
  }

  /**
   * The number of positions decoded so far (the next one's index), the same in every sequence.
   *
   * @throws IllegalStateException for a batch joined from sequences that have seen different numbers
   */
  public long position() {
    if (!positions.uniform()) {
      throw new IllegalStateException("the sequences have seen different numbers of positions: " + positions);
    }
    return positions.seen(0);
  }

  /** The number of positions each sequence has seen. */
  public RowPositions positions() {
    return positions;
  }

  /** The number of sequences decoded together. */
  public long batch() {
    return positions.batch();
  }

  /** True when every layer's state can be joined with others ({@link JoinableState}). */
  boolean joinable() {
    return layers.stream().allMatch(JoinableState.class::isInstance);
  }

  /** True when finished rows can be dropped ({@link #keepRows}): every layer's state is {@link SelectableRows}. */
  public boolean selectsRows() {
    return layers.stream().allMatch(SelectableRows.class::isInstance);
  }

  /**
   * Keeps only the sequences {@code rows} (indices in increasing order), which become rows 0, 1, ...; each continues
   * as before.
   *
   * @throws IllegalStateException when some layer's state cannot drop rows ({@link #selectsRows})
   */
  public void keepRows(int[] rows) {
    if (!selectsRows()) {
      throw new IllegalStateException("some layer's decoding state cannot drop rows");
    }
    layers.forEach(state -> ((SelectableRows) state).keepRows(rows));
    positions = positions.kept(rows);
  }

  /**
   * Fixes every layer's state ({@link StaticState#fix}) for sequences of up to {@code capacity} positions: from now
   * on a one-position step reads its position from {@link #fixedPosition()}, on {@code like}'s device, which the
   * caller sets before each step. Nothing changes when some state cannot be fixed.
   *
   * <p>{@link DecodeGraph} does this before it records a step; a caller fixing a decoding itself sets the position
   * as it does.
   *
   * @return null when fixed, otherwise why not
   */
  public String fix(long capacity, Tensor like) {
    if (!positions.uniform()) {
      return "the sequences have seen different numbers of positions";
    }
    if (capacity <= position()) {
      return "no room for a new position in " + capacity;
    }
    for (DecodeState state : layers) {
      if (!(state instanceof StaticState)) {
        return "a layer's decoding state (" + state.getClass().getSimpleName() + ") cannot be fixed";
      }
    }
    TensorOptions longs = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(like.device()));
    fixedPosition.set(torch.full(new long[] {1}, new Scalar(position()), longs));
    // a state fixed before another refuses still decodes right: the position tensor stays, set before each step
    for (DecodeState state : layers) {
      try {
        ((StaticState) state).fix(capacity, fixedPosition.get());
      } catch (IllegalStateException | IllegalArgumentException e) {
        return "a layer's decoding state (" + state.getClass().getSimpleName() + ") was not fixed: " + e.getMessage();
      }
    }
    return null;
  }

  /** The position of the next one-position step ({@code long [1]}, on the device) once {@link #fix fixed}; or null. */
  public Tensor fixedPosition() {
    return fixedPosition.get();
  }

  /**
   * Sets the positions every sequence and every fixed layer has seen, in the host's bookkeeping: after steps that
   * ran as a replay, or to undo a step recorded but not run.
   */
  void seen(long seen) {
    positions = RowPositions.uniform(positions.batch(), seen);
    layers.forEach(state -> ((StaticState) state).seen(seen));
  }

  /** The bytes the state of layer {@code index} holds now (a key/value cache grows, an SSM state does not). */
  public long bytes(int index) {
    return layers.get(index).bytes();
  }

  DecodeState layer(int index) {
    return layers.get(index);
  }

  int layers() {
    return layers.size();
  }

  void advance(long count) {
    positions = positions.advanced(count);
  }

  @Override
  public void close() {
    layers.forEach(DecodeState::close);
    fixedPosition.close();
  }
}
