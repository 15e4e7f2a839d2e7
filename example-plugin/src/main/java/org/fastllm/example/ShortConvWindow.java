package org.fastllm.example;

import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.StaticState;

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
 *
 * <p>A step does not depend on the position and the window keeps its size, so the state can be fixed
 * ({@link StaticState}): on a GPU, decoding then replays one recorded CUDA graph per step.
 */
final class ShortConvWindow implements StaticState {
  final KeptTensor inputs = new KeptTensor();

  @Override
  public long bytes() {
    return inputs.isSet() ? inputs.get().nbytes() : 0;
  }

  @Override
  public void fix(long capacity, Tensor position) {
    if (inputs.isSet()) {   // a kernel of 1 keeps no inputs
      inputs.fix();
    }
  }

  @Override
  public void seen(long positions) {}   // the window does not count positions

  @Override
  public void close() {
    inputs.close();
  }
}
