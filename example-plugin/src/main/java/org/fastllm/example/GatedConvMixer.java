package org.fastllm.example;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * The gated_conv mixer: {@code [x, g] = in_proj(h)}, {@code y = conv(x) * silu(g)}, output {@code out_proj(y)}, with
 * {@code E = expansion x H} channels in between.
 *
 * <pre>{@code
 * // given GatedConvBlockConfig resolvedGatedConvBlock
 * GatedConvMixer mixer = new GatedConvMixer(resolvedGatedConvBlock);
 * }</pre>
 *
 * <p>Its parameters are exactly the {@code mixer.*} tensors of {@link GatedConvLayout}. A causal mixer decodes
 * token by token from a {@link ShortConvWindow}, its convolution's last inputs; a centered one has no step function.
 */
public final class GatedConvMixer extends SequenceLayer {
  private final Linear inProj;
  private final ShortConv conv;
  private final Linear outProj;
  private final long inner;
  private final boolean causal;

  public GatedConvMixer(GatedConvBlockConfig c) {
    long hidden = c.hiddenSize();
    this.inner = (long) c.expansion() * hidden;
    this.causal = c.causal();
    boolean biases = c.addLinearBiases();
    this.inProj = register_module("in_proj", Linear.kaiming("in_proj", 2 * inner, hidden, biases));
    this.conv = register_module("conv", new ShortConv(inner, c.kernelSize(), c.causal()));
    this.outProj = register_module("out_proj", Linear.kaiming("out_proj", hidden, inner, biases));
  }

  @Override
  public Tensor forward(Tensor input, Adapters adapters) {
    return mix(input, adapters, conv::forward);
  }

  /** A causal mixer keeps its convolution's last inputs; a centered one, which sees later positions, recomputes. */
  @Override
  public DecodeState startDecoding(long batch) {
    return causal ? new ShortConvWindow() : super.startDecoding(batch);
  }

  @Override
  public Tensor decode(Tensor input, Adapters adapters, DecodeState state) {
    if (!causal) {
      return super.decode(input, adapters, state);
    }
    ShortConvWindow window = (ShortConvWindow) state;
    return mix(input, adapters, x -> conv.decode(x, window.inputs));
  }

  @Override
  public boolean decodesIncrementally() {
    return causal;
  }

  private Tensor mix(Tensor input, Adapters adapters, UnaryOperator<Tensor> convolution) {
    Tensor xg = inProj.forward(input, adapters);
    Tensor y = convolution.apply(xg.narrow(2, 0, inner)).mul(torch.silu(xg.narrow(2, inner, inner)));
    return outProj.forward(y, adapters);
  }
}
