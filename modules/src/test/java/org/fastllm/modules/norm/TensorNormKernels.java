package org.fastllm.modules.norm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The contract of {@link NormKernels} in tensor operations on any device, with the kernels' own formulas (the
 * backward written out, not autograd's): lets the CPU tests drive {@link FusedNorm} and check those formulas.
 */
final class TensorNormKernels implements NormKernels {
  @Override
  public String unavailable(Tensor x, long size, boolean rms) {
    return null;
  }

  @Override
  public void forward(Tensor x, Tensor weight, Tensor bias, double epsilon, Tensor y, Tensor mean, Tensor rstd) {
    long[] last = {1};
    Tensor mu = bias == null ? torch.zeros_like(mean) : x.mean(last, false, new ScalarTypeOptional());
    Tensor centred = x.sub(mu.unsqueeze(1));
    Tensor r = centred.square().mean(last, false, new ScalarTypeOptional())
        .add(new Scalar(epsilon)).rsqrt();
    Tensor out = centred.mul(r.unsqueeze(1)).mul(weight);
    if (bias != null) {
      out = out.add(bias);
    }
    y.copy_(out);
    mean.copy_(mu);
    rstd.copy_(r);
  }

  @Override
  public void backward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean rms, Tensor dx,
      Tensor dweight, Tensor dbias) {
    long[] last = {1};
    long[] rows = {0};
    Tensor d = dy.to(torch.ScalarType.Float);
    Tensor xhat = x.sub(mean.unsqueeze(1)).mul(rstd.unsqueeze(1));
    Tensor g = d.mul(weight);
    Tensor meanGX = g.mul(xhat).mean(last, true, new ScalarTypeOptional());
    Tensor inner = g.sub(xhat.mul(meanGX));
    if (!rms) {
      inner = inner.sub(g.mean(last, true, new ScalarTypeOptional()));
    }
    dx.copy_(inner.mul(rstd.unsqueeze(1)));
    if (dweight != null) {
      dweight.copy_(d.mul(xhat).sum(rows));
    }
    if (dbias != null) {
      dbias.copy_(d.sum(rows));
    }
  }
}
