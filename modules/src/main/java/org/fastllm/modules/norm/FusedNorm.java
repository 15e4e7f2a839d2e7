package org.fastllm.modules.norm;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.autograd.ExternalBackward;

/**
 * A normalization through {@link NormKernels} with its backward attached: float32 input, bfloat16 output.
 *
 * <p>Under bf16 autocast libtorch's norm writes a float32 output, and each matrix product reading it casts it to
 * bfloat16 again (attention's query and key-value projections: twice); in the backward each of their bfloat16
 * gradients is cast to float32 and added before the norm's backward reads the sum. Writing the bfloat16 value once
 * leaves those casts out; the products' gradients are then added in bfloat16, where autocast added them in float32.
 */
final class FusedNorm {
  private FusedNorm() {}

  /**
   * Whether {@code input} takes the kernels: asked for ({@code -Dfastllm.fusedNorm=true}), float32 on CUDA under
   * bf16 autocast, and they compile for it.
   */
  static boolean applies(NormKernels kernels, Tensor input, Tensor weight, long size, boolean rms) {
    return Boolean.getBoolean("fastllm.fusedNorm") && input.is_cuda()
        && input.dim() >= 1 && input.size(input.dim() - 1) == size
        && input.scalar_type().intern() == torch.ScalarType.Float
        && weight.scalar_type().intern() == torch.ScalarType.Float
        && torch.is_autocast_enabled(torch.DeviceType.CUDA)
        && torch.get_autocast_dtype(torch.DeviceType.CUDA).intern() == torch.ScalarType.BFloat16
        && kernels.ready(input, size, rms);
  }

  /** The norm of {@code input} over its last dimension, in bfloat16; {@code bias} null for rms_norm. */
  static Tensor apply(NormKernels kernels, Tensor input, Tensor weight, Tensor bias, double epsilon) {
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
      TensorOptions floats = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(input.device()));
      TensorOptions halves = new TensorOptions(torch.ScalarType.BFloat16).device(
          new DeviceOptional(input.device()));
      y = torch.empty(new long[] {rows, size}, halves, new MemoryFormatOptional());
      mean = torch.empty(new long[] {rows}, floats, new MemoryFormatOptional());
      rstd = torch.empty(new long[] {rows}, floats, new MemoryFormatOptional());
      kernels.forward(x, weight, bias, epsilon, y, mean, rstd);
    }
    List<Tensor> inputs = new ArrayList<>(List.of(input, weight));
    if (bias != null) {
      inputs.add(bias);
    }
    return ExternalBackward.attach(y.view(shape), inputs, List.of(x, mean, rstd), dy -> {
      Tensor gradient = dy.to(torch.ScalarType.BFloat16).reshape(rows, size).contiguous();
      Tensor dx = torch.empty_like(x);
      Tensor dweight = weight.requires_grad() ? torch.empty_like(weight) : null;
      Tensor dbias = bias != null && bias.requires_grad() ? torch.empty_like(bias) : null;
      kernels.backward(gradient, x, weight, mean, rstd, rms, dx, dweight, dbias);
      return new Tensor[] {dx.view(shape), dweight, dbias};
    });
  }
}
