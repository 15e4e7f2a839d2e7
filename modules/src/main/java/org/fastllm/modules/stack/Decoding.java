package org.fastllm.modules.stack;

import java.util.List;
import org.fastllm.modules.layer.DecodeState;

/**
 * The decoding state of a whole model for one batch of sequences: one {@link DecodeState} per layer (a shared
 * block keeps one per use) and the number of positions decoded so far. Made by
 * {@link LanguageModel#startDecoding}; {@link #close()} frees every layer's cache.
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
  private final long batch;
  private long position;

  Decoding(List<DecodeState> layers, long batch) {
    this.layers = List.copyOf(layers);
    this.batch = batch;
  }

  /** The number of positions decoded so far (the next one's index). */
  public long position() {
    return position;
  }

  /** The number of sequences decoded together. */
  public long batch() {
    return batch;
  }

  /** The bytes the state of layer {@code index} holds now (a key/value cache grows, an SSM state does not). */
  public long bytes(int index) {
    return layers.get(index).bytes();
  }

  DecodeState layer(int index) {
    return layers.get(index);
  }

  void advance(long positions) {
    position += positions;
  }

  @Override
  public void close() {
    layers.forEach(DecodeState::close);
  }
}
