package org.fastllm.modules.attention;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelImplementations;

/**
 * The contract of {@link RotaryKernels} in tensor operations on any device and type, the kernel's formula written
 * out ({@code re' = re cos - sign im sin}, {@code im' = sign re sin + im cos}): lets the CPU tests drive
 * {@link Rotary}'s kernel path, of one rotation or of a whole model.
 */
public final class TensorRotaryKernels implements RotaryKernels {

  /** {@code base} with this kernel for rotary embeddings. */
  public static KernelImplementations in(KernelImplementations base) {
    return base.with(RotaryKernels.class, new TensorRotaryKernels());
  }

  @Override
  public String unavailable(Tensor x) {
    return null;
  }

  @Override
  public void turn(Tensor x, Tensor out, Tensor cos, Tensor sin, float sign) {
    long time = x.size(2);
    long half = x.size(3) / 2;
    Tensor c = cos.narrow(0, 0, time).to(x.scalar_type());
    Tensor s = sin.narrow(0, 0, time).mul(new Scalar(sign)).to(x.scalar_type());
    Tensor re = x.narrow(3, 0, half);
    Tensor im = x.narrow(3, half, half);
    out.copy_(torch.cat(new TensorVector(re.mul(c).sub(im.mul(s)), re.mul(s).add(im.mul(c))), 3));
  }
}
