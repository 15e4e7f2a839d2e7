package org.fastllm.modules.ssm;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.CausalConv;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * The frame of the SSM mixers that run the selective scan ({@link SelectiveScan}): Mamba 1 and Fast-LLM's d_xb
 * Mamba 2. A mixer computes its output in one {@link #mix}, given its causal convolution, its scan and the state
 * matrix {@code A = -exp(A_log)}; {@link #forward} runs them over the whole sequence, {@link #decode} from the
 * convolution window and recurrent state an {@link SsmDecodeState} keeps (with {@code A} computed once per state).
 *
 * <pre>{@code
 * // given org.fastllm.dsl.config.SsmBlockConfig resolvedSsmBlock, Tensor prompt, Tensor next
 * var mixer = Mamba1Mixer.of(resolvedSsmBlock, SelectiveScan.tensorOperations(64));
 * try (var state = mixer.startDecoding(prompt.size(0))) {
 *   mixer.decode(prompt, Adapters.NONE, state);
 *   mixer.decode(next, Adapters.NONE, state);   // what forward gives at next's positions
 * }
 * }</pre>
 */
abstract class SelectiveScanMixer extends SequenceLayer {
  /** The mixer's causal convolution. */
  abstract CausalConv conv();

  /** The mixer's selective scan. */
  abstract SelectiveScan scan();

  /** {@code A_log}, one row of log decay rates per channel. */
  abstract Tensor aLog();

  /** The output for {@code input} {@code [b, t, hidden]}, with the convolution, the scan and {@code A} given. */
  abstract Tensor mix(Tensor input, Adapters adapters, UnaryOperator<Tensor> convolution, Scan selective, Tensor a);

  @Override
  public Tensor forward(Tensor input, Adapters adapters) {
    return mix(input, adapters, conv()::forward, scan()::scan, aLog().exp().neg());
  }

  @Override
  public DecodeState startDecoding(long batch) {
    return new SsmDecodeState();
  }

  @Override
  public Tensor decode(Tensor input, Adapters adapters, DecodeState decoding) {
    SsmDecodeState s = (SsmDecodeState) decoding;
    return mix(input, adapters, x -> conv().decode(x, s.window),
        (u, delta, a, b, c) -> scan().decode(u, delta, a, b, c, s.recurrent), s.stateMatrix(aLog()));
  }

  @Override
  public boolean decodesIncrementally() {
    return true;
  }
}
