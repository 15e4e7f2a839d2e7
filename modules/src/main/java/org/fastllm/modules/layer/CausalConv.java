package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * A causal depthwise convolution over time, Fast-LLM's {@code conv1d} with weight {@code [channels, 1, kernel]} and
 * an optional bias: output {@code t} sees inputs {@code t-kernel+1 .. t}.
 *
 * <pre>{@code
 * // given CausalConv conv, Tensor x
 * Tensor y = conv.forward(x);  // x, y: [b, t, channels]
 * }</pre>
 */
public final class CausalConv extends Module {
  private final Tensor weight;
  private final Tensor bias;
  private final long kernel;

  public CausalConv(Tensor weight, Tensor bias) {
    this.weight = Parameters.register(this, "weight", weight);
    this.bias = bias == null ? null : Parameters.register(this, "bias", bias);
    this.kernel = weight.size(2);
  }

  /** Fast-LLM's init for mamba2 convolutions: uniform in {@code +-(channels*kernel)^-1/2}, bias {@code +-kernel^-1/2}. */
  public static CausalConv uniform(long channels, long kernel, boolean bias) {
    Tensor w = ParameterInit.uniform(1.0 / Math.sqrt(channels * kernel), channels, 1, kernel);
    return new CausalConv(w, bias ? ParameterInit.uniform(1.0 / Math.sqrt(kernel), channels) : null);
  }

  /** {@code [b, t, c] -> [b, t, c]}, zero-padded on the left so no output sees the future. */
  public Tensor forward(Tensor input) {
    long time = input.size(1);
    Tensor channelsFirst = input.transpose(1, 2);
    TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
    // Padding both sides and keeping the first `time` outputs is the causal convolution.
    Tensor y = torch.conv1d(channelsFirst, weight, b, new long[] {1}, new long[] {kernel - 1}, new long[] {1},
        weight.size(0));
    return y.narrow(2, 0, time).transpose(1, 2);
  }

  /**
   * The outputs for {@code input} {@code [b, t, c]} following the inputs {@code window} holds (its last
   * {@code kernel - 1}, zeros before the first call); {@code window} then holds the last {@code kernel - 1} inputs.
   */
  public Tensor decode(Tensor input, KeptTensor window) {
    long time = input.size(1);
    if (kernel == 1) {
      return forward(input);
    }
    Tensor all = window.isSet()
        ? torch.cat(new TensorVector(window.get(), input), 1)
        : torch.constant_pad_nd(input, new long[] {0, 0, kernel - 1, 0}, new Scalar(0.0));
    // a view: it holds one position more than the window, never more
    window.set(all.narrow(1, all.size(1) - (kernel - 1), kernel - 1));
    if (time == 1) {
      // one output: the weighted sum over the kernel, a fifth of a depthwise convolution's time on the CPU
      Tensor taps = weight.view(weight.size(0), kernel).t();    // [kernel, c]
      Tensor y = all.mul(taps).sum(new long[] {1}, true, new ScalarTypeOptional());
      return bias == null ? y : y.add(bias);
    }
    // every output's inputs are in `all`: no padding, exactly one output per new position
    TensorOptional b = bias == null ? new TensorOptional() : new TensorOptional(bias);
    Tensor y = torch.conv1d(all.transpose(1, 2), weight, b, new long[] {1}, new long[] {0}, new long[] {1},
        weight.size(0));
    return y.transpose(1, 2);
  }

  public Tensor weight() {
    return weight;
  }
}
