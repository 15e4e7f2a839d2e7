package org.fastllm.modules.ssm;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.CausalConv;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * The frame of the SSM mixers whose scan has one decay per head ({@link ScalarDecayScan}): discrete Mamba 2 and the
 * standard Mamba 2. A mixer computes its output in one {@link #mix}, given its causal convolution and its scan;
 * {@link #forward} runs both over the whole sequence, {@link #decode} from the convolution window and the recurrent
 * state an {@link SsmDecodeState} keeps.
 *
 * <pre>{@code
 * // given org.fastllm.dsl.config.SsmBlockConfig resolvedSsmBlock, Tensor prompt, Tensor next
 * var mixer = StandardMamba2Mixer.of(resolvedSsmBlock);
 * try (var state = mixer.startDecoding(prompt.size(0))) {
 *   mixer.decode(prompt, Adapters.NONE, state);
 *   mixer.decode(next, Adapters.NONE, state);   // what forward gives at next's positions
 * }
 * }</pre>
 */
abstract class ScalarDecayMixer extends SequenceLayer {
  /** The recurrence {@link ScalarDecayScan#scan} computes, as forward or decode runs it. */
  interface DecayScan {
    Tensor scan(Tensor x, Tensor logDecay, Tensor b, Tensor c);
  }

  /** The mixer's causal convolution over {@code [x; B; C]}. */
  abstract CausalConv conv();

  /** The mixer's chunked scan. */
  abstract ScalarDecayScan scan();

  /** The output for {@code input} {@code [b, t, hidden]}, with the convolution and the scan given. */
  abstract Tensor mix(Tensor input, Adapters adapters, UnaryOperator<Tensor> convolution, DecayScan scalarDecay);

  @Override
  public Tensor forward(Tensor input, Adapters adapters) {
    return mix(input, adapters, conv()::forward, scan()::scan);
  }

  @Override
  public DecodeState startDecoding(long batch) {
    return new SsmDecodeState();
  }

  @Override
  public Tensor decode(Tensor input, Adapters adapters, DecodeState decoding) {
    SsmDecodeState s = (SsmDecodeState) decoding;
    return mix(input, adapters, x -> conv().decode(x, s.window),
        (x, a, b, c) -> scan().decode(x, a, b, c, s.recurrent));
  }

  @Override
  public boolean decodesIncrementally() {
    return true;
  }
}
