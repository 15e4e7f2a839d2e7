package org.fastllm.modules.layer;

/**
 * What one use of a layer remembers between decoding calls: an attention layer's keys and values, an SSM layer's
 * convolution window and recurrent state. It belongs to one batch of sequences and one layer position (a shared
 * block has one state per use); {@link #close()} frees its tensors.
 *
 * <pre>{@code
 * // given SequenceLayer mixer, org.bytedeco.pytorch.Tensor prompt, org.bytedeco.pytorch.Tensor next
 * try (DecodeState state = mixer.startDecoding(prompt.size(0))) {
 *   var first = mixer.decode(prompt, Adapters.NONE, state);   // every prompt position
 *   var second = mixer.decode(next, Adapters.NONE, state);    // the positions after the prompt
 * }
 * }</pre>
 */
public interface DecodeState extends AutoCloseable {
  /** The bytes of the tensors the state holds now: what decoding keeps for this layer between calls. */
  long bytes();

  /** Frees the state's tensors; the state is not used after. */
  @Override
  void close();
}
