package org.fastllm.example;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.ParameterInit;
import org.fastllm.modules.layer.Parameters;

/**
 * A depthwise convolution over time with weight {@code [channels, 1, kernel]} and a bias: causal (output {@code t}
 * sees inputs {@code t-kernel+1 .. t}) or centered (an odd kernel, {@code (kernel-1)/2} on each side).
 *
 * <pre>{@code
 * // given long channels, Tensor x
 * Tensor y = new ShortConv(channels, 4, true).forward(x);  // x, y: [b, t, channels]
 * }</pre>
 */
final class ShortConv extends Module {
  private final Tensor weight;
  private final Tensor bias;
  private final long kernel;
  private final boolean causal;

  ShortConv(long channels, long kernel, boolean causal) {
    this.kernel = kernel;
    this.causal = causal;
    this.weight = Parameters.register(this, "weight",
        ParameterInit.uniform(1.0 / Math.sqrt(channels * kernel), channels, 1, kernel));
    this.bias = Parameters.register(this, "bias", ParameterInit.uniform(1.0 / Math.sqrt(kernel), channels));
  }

  Tensor forward(Tensor input) {
    long time = input.size(1);
    long padding = causal ? kernel - 1 : (kernel - 1) / 2;
    Tensor y = torch.conv1d(input.transpose(1, 2), weight, new TensorOptional(bias), new long[] {1},
        new long[] {padding}, new long[] {1}, weight.size(0));
    // Causal: padding on both sides, keep the first `time` outputs; centered: the output already has `time`.
    return y.narrow(2, 0, time).transpose(1, 2);
  }

  /**
   * The causal outputs for {@code input} {@code [b, t, channels]} that follow the inputs {@code window} holds (none
   * before the first call: zeros, as the forward's padding); {@code window} then holds the last
   * {@code kernel - 1} inputs.
   */
  Tensor decode(Tensor input, KeptTensor window) {
    if (kernel == 1) {
      return forward(input);
    }
    Tensor all = window.isSet()
        ? torch.cat(new TensorVector(window.get(), input), 1)
        : torch.constant_pad_nd(input, new long[] {0, 0, kernel - 1, 0}, new Scalar(0.0));
    window.set(all.narrow(1, all.size(1) - (kernel - 1), kernel - 1).contiguous());
    // Without padding, the kernel - 1 inputs before the new ones give exactly one output per new input.
    Tensor y = torch.conv1d(all.transpose(1, 2), weight, new TensorOptional(bias), new long[] {1}, new long[] {0},
        new long[] {1}, weight.size(0));
    return y.transpose(1, 2);
  }
}
