package org.fastllm.modules.ssm;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.modules.experiment.ExperimentFlags;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The D skip and silu(z) gate of the Mamba 1 and Mamba 2 mixers after their scan, {@code (y + D u) silu(z)}: one
 * kernel each way ({@link GateKernels}) where the scan's kernels are chosen ({@code training.kernels.scan} not
 * {@code off}) and the tensors are as bf16 autocast leaves them (y float32 from the scan, u and z bfloat16, on one
 * CUDA device), else the tensor operations. The kernel writes the gated value in bfloat16, which the output
 * projection would have cast it to. {@code -Dfastllm.gateKernel=false} keeps the tensor operations, to measure the
 * difference. On a GPU where the gate's kernel does not run and the scan's may, the scan's entry of the kernel report
 * says so with the reason.
 *
 * <pre>{@code
 * // given SkipGate gate, Tensor y, Tensor u, Tensor skip, Tensor z
 * Tensor gated = gate.apply(y, u, skip, z);   // y [b, t, D], u and z [b, t, D], skip [D]
 * }</pre>
 */
final class SkipGate {
  /** How the kernel report names the gate where its kernel does not run. */
  static final String PART = "the D skip and silu(z) gate";
  private final KernelFeature feature;   // null: tensor operations only
  private final GateKernels kernels;

  SkipGate(KernelFeature feature, GateKernels kernels) {
    this.feature = feature;
    this.kernels = kernels;
  }

  /** The gate as tensor operations, on any device. */
  static SkipGate tensorOperations() {
    return new SkipGate(null, null);
  }

  Tensor apply(Tensor y, Tensor u, Tensor skip, Tensor z) {
    if (feature != null && feature.choice() != KernelChoice.OFF) {
      String why = ExperimentFlags.current().gateKernel() ? kernels.unavailable(y) : "off (-Dfastllm.gateKernel=false)";
      if (why == null) {
        why = unavailable(y, u, skip, z);
      }
      // off the GPU the scan's own report says why no kernel runs
      if ((why == null || y.is_cuda()) && feature.runsPart(PART, why)) {
        return fused(y, u, skip, z);
      }
    }
    return y.add(u.mul(skip)).mul(torch.silu(z));
  }

  /** Null when the kernels take these tensors' types and shapes, otherwise why not. */
  String unavailable(Tensor y, Tensor u, Tensor skip, Tensor z) {
    if (y.dim() != 3 || y.scalar_type().intern() != torch.ScalarType.Float || !y.is_contiguous()) {
      return "the scan's output is not a contiguous float32 [b, t, D]";
    }
    for (Tensor t : List.of(u, z)) {
      if (t.scalar_type().intern() != torch.ScalarType.BFloat16 || !sameShape(t, y) || t.stride(2) != 1
          || t.stride(0) != t.size(1) * t.stride(1)) {
        return "u or z is not bfloat16 rows of [b, t, D], as bf16 autocast leaves them";
      }
    }
    if (skip.dim() != 1 || skip.size(0) != y.size(2) || skip.scalar_type().intern() != torch.ScalarType.Float) {
      return "D is not float32 [D]";
    }
    if (y.numel() / y.size(2) > Integer.MAX_VALUE || u.stride(1) > Integer.MAX_VALUE
        || z.stride(1) > Integer.MAX_VALUE) {
      return "the rows are more than an int counts";
    }
    return null;
  }

  private static boolean sameShape(Tensor t, Tensor y) {
    return t.dim() == 3 && t.size(0) == y.size(0) && t.size(1) == y.size(1) && t.size(2) == y.size(2);
  }

  private Tensor fused(Tensor y, Tensor u, Tensor skip, Tensor z) {
    long[] shape = y.sizes().vec().get();
    long rows = shape[0] * shape[1];
    long channels = shape[2];
    Tensor ys;
    Tensor us;
    Tensor zs;
    Tensor d;
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      ys = y.detach().view(rows, channels);
      us = u.detach().reshape(rows, channels);   // rows of a wider projection stay a view
      zs = z.detach().reshape(rows, channels);
      d = skip.detach().contiguous();
      out = KernelFeature.empty(y, torch.ScalarType.BFloat16, rows, channels);
      kernels.forward(ys, us, zs, d, out);
    }
    return feature.attach(out.view(shape), List.of(y, u, skip, z), List.of(ys, us, zs, d), dout -> {
      Tensor gradient = dout.to(torch.ScalarType.BFloat16).reshape(rows, channels).contiguous();
      Tensor dy = torch.empty_like(ys);
      Tensor du = KernelFeature.empty(y, torch.ScalarType.BFloat16, rows, channels);
      Tensor dz = KernelFeature.empty(y, torch.ScalarType.BFloat16, rows, channels);
      Tensor dskip = torch.zeros_like(d);
      kernels.backward(gradient, ys, us, zs, d, dy, du, dz, dskip);
      return new Tensor[] {dy.view(shape), du.view(shape), dskip, dz.view(shape)};
    });
  }
}
