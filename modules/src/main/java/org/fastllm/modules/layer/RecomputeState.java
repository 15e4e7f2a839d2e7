package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The decoding state of a layer without a step function of its own: the whole input so far, which
 * {@link SequenceLayer#decode} runs through the full forward again at every call. Its cost grows with the context.
 */
final class RecomputeState implements DecodeState {
  private final KeptTensor seen = new KeptTensor();

  /** The input so far with {@code input} appended along time; the state keeps it. */
  Tensor append(Tensor input) {
    Tensor all = seen.isSet() ? torch.cat(new TensorVector(seen.get(), input), 1) : input;
    seen.set(all);
    return seen.get();
  }

  @Override
  public long bytes() {
    return seen.isSet() ? seen.get().nbytes() : 0;
  }

  @Override
  public void close() {
    seen.close();
  }
}
