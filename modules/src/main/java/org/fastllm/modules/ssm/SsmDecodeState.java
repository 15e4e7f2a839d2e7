package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The decoding state of an SSM mixer: the convolution's window (its last {@code kernel - 1} inputs) and the
 * recurrent state; both have a fixed size, however many positions have been decoded.
 */
final class SsmDecodeState implements DecodeState {
  final KeptTensor window = new KeptTensor();
  final KeptTensor recurrent = new KeptTensor();
  private final KeptTensor stateMatrix = new KeptTensor();

  /**
   * {@code A = -exp(A_log)}, computed at the first call and kept: the parameters do not change while a sequence is
   * decoded, and a step then spends no kernels on it.
   */
  Tensor stateMatrix(Tensor aLog) {
    if (!stateMatrix.isSet()) {
      stateMatrix.set(aLog.exp().neg());
    }
    return stateMatrix.get();
  }

  /** The number of values the state holds (for checks that it does not grow). */
  long elements() {
    return (window.isSet() ? window.get().numel() : 0) + (recurrent.isSet() ? recurrent.get().numel() : 0);
  }

  @Override
  public long bytes() {
    return (window.isSet() ? window.get().nbytes() : 0) + (recurrent.isSet() ? recurrent.get().nbytes() : 0)
        + (stateMatrix.isSet() ? stateMatrix.get().nbytes() : 0);
  }

  @Override
  public void close() {
    window.close();
    recurrent.close();
    stateMatrix.close();
  }
}
