package org.fastllm.modules.norm;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * A normalization through {@link NormKernels} with its backward attached: float32 input, bfloat16 output.
 *
 * <pre>{@code
 * // given NormKernels kernels, KernelFeature feature, Tensor x, Tensor weight, Tensor bias
 * Tensor y = FusedNorm.apply(kernels, feature, x, weight, bias, 1e-5);   // under bf16 autocast
 * }</pre>
 *
 * <p>Under bf16 autocast libtorch's norm writes a float32 output, and each matrix product reading it casts it to
 * bfloat16 again (attention's query and key-value projections: twice); in the backward each of their bfloat16
 * gradients is cast to float32 and added before the norm's backward reads the sum. Writing the bfloat16 value once
 * leaves those casts out; the products' gradients are then added in bfloat16, where autocast added them in float32.
 */
final class FusedNorm {
  private FusedNorm() {}

  /**
   * Null when {@code input} can take the kernels (float32 on CUDA under bf16 autocast, and the kernels run on its
   * device), otherwise why not; the cheap conditions first, compiling last.
   */
  static String unavailable(NormKernels kernels, Tensor input, Tensor weight, long size, boolean rms) {
    String why = KernelFeature.notOnCuda("the input is", input);
    if (why != null) {
      return why;
    }
    if (input.dim() < 1 || input.size(input.dim() - 1) != size) {
      return "the input's last dimension is not the normalized size " + size;
    }
    if (input.scalar_type().intern() != torch.ScalarType.Float
        || weight.scalar_type().intern() != torch.ScalarType.Float) {
      return "the input or weight is " + (input.scalar_type().intern() != torch.ScalarType.Float
          ? input.scalar_type().intern() : weight.scalar_type().intern()) + ", the kernels take float32";
    }
    if (!torch.is_autocast_enabled(torch.DeviceType.CUDA)
        || torch.get_autocast_dtype(torch.DeviceType.CUDA).intern() != torch.ScalarType.BFloat16) {
      return "bf16 autocast is off (the kernels write the bfloat16 value its products read)";
    }
    return kernels.unavailable(input, size, rms);
  }

  /** The norm of {@code input} over its last dimension, in bfloat16; {@code bias} null for rms_norm. */
  static Tensor apply(NormKernels kernels, KernelFeature feature, Tensor input, Tensor weight, Tensor bias,
      double epsilon) {
    long[] shape = input.sizes().vec().get();
    long size = shape[shape.length - 1];
    long rows = input.numel() / size;
    boolean rms = bias == null;
    Tensor x;
    Tensor y;
    Tensor mean;
    Tensor rstd;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      x = input.detach().reshape(rows, size).contiguous();
      y = KernelFeature.empty(input, torch.ScalarType.BFloat16, rows, size);
      mean = KernelFeature.empty(input, torch.ScalarType.Float, rows);
      rstd = KernelFeature.empty(input, torch.ScalarType.Float, rows);
      kernels.forward(x, weight, bias, epsilon, y, mean, rstd);
    }
    List<Tensor> inputs = new ArrayList<>(List.of(input, weight));
    if (bias != null) {
      inputs.add(bias);
    }
    return feature.attach(y.view(shape), inputs, List.of(x, mean, rstd), dy -> {
      Tensor gradient = dy.to(torch.ScalarType.BFloat16).reshape(rows, size).contiguous();
      Tensor dx = torch.empty_like(x);
      Tensor dweight = weight.requires_grad() ? torch.empty_like(weight) : null;
      Tensor dbias = bias != null && bias.requires_grad() ? torch.empty_like(bias) : null;
      kernels.backward(gradient, x, weight, mean, rstd, rms, dx, dweight, dbias);
      return new Tensor[] {dx.view(shape), dweight, dbias};
    });
  }
}
