package org.fastllm.modules.attention;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embedding in Fast-LLM's real layout: the head's first half holds the real parts and the second
 * half the imaginary parts; channel pair {@code f} turns by {@code position * theta^(-2f/head_size)}.
 *
 * <pre>{@code Tensor q2 = new Rotary(10000).apply(q);  // q: [b, heads, t, head_size]}</pre>
 */
public record Rotary(double theta) {

  /** Rotates queries or keys laid out {@code [b, heads, t, head_size]}; head_size must be even. */
  public Tensor apply(Tensor x) {
    long time = x.size(2);
    long size = x.size(3);
    long half = size / 2;
    // Angles in double, then cast, so float32 runs lose no precision at long positions.
    TensorOptions doubles = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(x.device()));
    Tensor positions = torch.arange(new Scalar(time), doubles).unsqueeze(1);
    Tensor frequencies = torch.arange(new Scalar(half), doubles)
        .mul(new Scalar(-2.0 * Math.log(theta) / size)).exp().unsqueeze(0);
    Tensor angles = positions.mul(frequencies);
    Tensor cos = angles.cos().to(x.scalar_type());
    Tensor sin = angles.sin().to(x.scalar_type());
    Tensor re = x.narrow(3, 0, half);
    Tensor im = x.narrow(3, half, half);
    Tensor newRe = re.mul(cos).sub(im.mul(sin));
    Tensor newIm = re.mul(sin).add(im.mul(cos));
    return torch.cat(new org.bytedeco.pytorch.TensorVector(newRe, newIm), 3);
  }
}
