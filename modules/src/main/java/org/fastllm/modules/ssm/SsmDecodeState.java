package org.fastllm.modules.ssm;

import java.util.List;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.RowPositions;
import org.fastllm.modules.layer.SelectableRows;
import org.fastllm.modules.layer.StaticState;

/**
 * The decoding state of an SSM mixer: the convolution's window (its last {@code kernel - 1} inputs) and the
 * recurrent state; both have a fixed size, however many positions have been decoded, and rows of a batch are
 * independent: states of sequences of different lengths are joined along the batch dimension. A step does not
 * depend on the position, so fixing the state ({@link StaticState}) only keeps its two tensors where they are.
 */
final class SsmDecodeState implements JoinableState, SelectableRows, StaticState {
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
  public DecodeState joinRows(List<DecodeState> rows) {
    List<SsmDecodeState> states = rows.stream().map(SsmDecodeState.class::cast).toList();
    SsmDecodeState joined = new SsmDecodeState();
    joined.window.set(batch(states.stream().map(s -> s.window.get()).toList()));
    joined.recurrent.set(batch(states.stream().map(s -> s.recurrent.get()).toList()));
    return joined;
  }

  @Override
  public void fix(long capacity, Tensor position) {
    if (window.isSet()) {   // a convolution of kernel 1 keeps no window
      window.fix();
    }
    recurrent.fix();
  }

  @Override
  public void seen(long positions) {}   // the state does not count positions

  @Override
  public void keepRows(int[] rows) {
    Tensor index = RowPositions.indices(rows, window.get().device());
    window.set(window.get().index_select(0, index));
    recurrent.set(recurrent.get().index_select(0, index));
  }

  private static Tensor batch(List<Tensor> rows) {
    return torch.cat(new TensorVector(rows.toArray(Tensor[]::new)), 0);
  }

  @Override
  public void close() {
    window.close();
    recurrent.close();
    stateMatrix.close();
  }
}
