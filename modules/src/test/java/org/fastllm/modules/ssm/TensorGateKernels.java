package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The gate kernels of {@code gate.cu} as float64 tensor operations on any device: the same closed-form backward
 * ({@code dy = dout z s}, {@code du = dy D}, {@code dz = dout g s (1 + z (1 - s))}, {@code dD = sum dy u}), so
 * {@link SkipGate}'s wiring and those formulas are checked against autograd on the CPU.
 */
final class TensorGateKernels implements GateKernels {
  @Override
  public String unavailable(Tensor y) {
    return null;
  }

  @Override
  public void forward(Tensor y, Tensor u, Tensor z, Tensor skip, Tensor out) {
    Tensor zd = z.to(torch.ScalarType.Double);
    out.copy_(gatedInput(y, u, skip).mul(zd).mul(torch.sigmoid(zd)));
  }

  @Override
  public void backward(Tensor dout, Tensor y, Tensor u, Tensor z, Tensor skip, Tensor dy, Tensor du, Tensor dz,
      Tensor dskip) {
    Tensor grad = dout.to(torch.ScalarType.Double);
    Tensor zd = z.to(torch.ScalarType.Double);
    Tensor s = torch.sigmoid(zd);
    Tensor dyd = grad.mul(zd).mul(s);
    dy.copy_(dyd);
    du.copy_(dyd.mul(skip.to(torch.ScalarType.Double)));
    Tensor slope = s.mul(zd.mul(s.neg().add(new Scalar(1.0))).add(new Scalar(1.0)));
    dz.copy_(grad.mul(gatedInput(y, u, skip)).mul(slope));
    dskip.add_(dyd.mul(u.to(torch.ScalarType.Double)).sum(new long[] {0}, false, new ScalarTypeOptional()));
  }

  private static Tensor gatedInput(Tensor y, Tensor u, Tensor skip) {
    return y.to(torch.ScalarType.Double).add(u.to(torch.ScalarType.Double).mul(skip.to(torch.ScalarType.Double)));
  }
}
