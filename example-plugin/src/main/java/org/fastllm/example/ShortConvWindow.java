package org.fastllm.example;

import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The decoding state of a causal gated_conv mixer: the last {@code kernel_size - 1} inputs of its short convolution
 * {@code [b, kernel_size - 1, E]}, all that the next output needs; nothing before the first call.
 *
 * <pre>{@code
 * // given GatedConvMixer mixer, org.bytedeco.pytorch.Tensor prompt, org.bytedeco.pytorch.Tensor next
 * try (var window = mixer.startDecoding(prompt.size(0))) {  // a ShortConvWindow when the conv is causal
 *   mixer.decode(prompt, org.fastllm.modules.layer.Adapters.NONE, window);
 *   mixer.decode(next, org.fastllm.modules.layer.Adapters.NONE, window);
 * }
 * }</pre>
 */
final class ShortConvWindow implements DecodeState {
  final KeptTensor inputs = new KeptTensor();

  @Override
  public long bytes() {
    return inputs.isSet() ? inputs.get().nbytes() : 0;
  }

  @Override
  public void close() {
    inputs.close();
  }
}
