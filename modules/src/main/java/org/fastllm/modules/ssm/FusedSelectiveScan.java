package org.fastllm.modules.ssm;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The selective scan of {@link SelectiveScan} through hand-written kernels: one pass over time per (batch, channel,
 * state) instead of {@code log2} passes of tensor operations, and a backward that recomputes states chunk by chunk
 * instead of keeping them, so the scan's memory is its inputs' plus one state per chunk.
 *
 * <pre>{@code
 * // given Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, KernelFeature feature
 * Tensor y = new FusedSelectiveScan(new CudaScanKernels(ScanSegments.AUTO), feature).scan(u, delta, a, b, c);
 * }</pre>
 *
 * <p>Works in float32 whatever the inputs' type and returns the type the tensor-operation scan would: the inputs'
 * when they share one (a model cast to bf16), float32 when they are mixed (bf16 autocast, where A stays float32).
 */
final class FusedSelectiveScan {
  private final ScanKernels kernels;
  private final KernelFeature feature;

  /** The scan through {@code kernels}, its backward attached through {@code feature}. */
  FusedSelectiveScan(ScanKernels kernels, KernelFeature feature) {
    this.kernels = kernels;
    this.feature = feature;
  }

  /** Null when the kernels take these inputs on their device, otherwise why not. */
  String unavailable(Tensor u, Tensor a, Tensor b) {
    return u.size(1) == 0 ? "the sequence is empty" : kernels.unavailable(u, u.size(2), b.size(2), a.size(1));
  }

  Tensor scan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    long batch = u.size(0);
    long time = u.size(1);
    long channels = u.size(2);
    long state = a.size(1);
    long chunks = (time + kernels.chunk(state) - 1) / kernels.chunk(state);
    Tensor[] in = new Tensor[5];
    Tensor y;
    Tensor entering;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      Tensor[] given = {u, delta, a, b, c};
      for (int i = 0; i < given.length; i++) {
        in[i] = given[i].detach().to(torch.ScalarType.Float).contiguous();
      }
      y = KernelFeature.empty(u, torch.ScalarType.Float, batch, time, channels);
      entering = KernelFeature.empty(u, torch.ScalarType.Float, batch, channels, chunks, state);
      kernels.forward(in[0], in[1], in[2], in[3], in[4], y, entering);
    }
    torch.ScalarType common = u.scalar_type().intern();
    for (Tensor t : List.of(delta, a, b, c)) {
      if (t.scalar_type().intern() != common) {
        common = torch.ScalarType.Float;   // what PyTorch promotes mixed float16/bfloat16/float32 to
      }
    }
    if (common != torch.ScalarType.Float) {
      try (NoGradGuard noGrad = new NoGradGuard()) {
        y = y.to(common);
      }
    }
    List<Tensor> saved = List.of(in[0], in[1], in[2], in[3], in[4], entering);
    return feature.attach(y, List.of(u, delta, a, b, c), saved, dy -> {
      Tensor gradient = dy.to(torch.ScalarType.Float).contiguous();
      Tensor du = torch.empty_like(in[0]);
      Tensor ddelta = torch.empty_like(in[1]);
      Tensor da = torch.zeros_like(in[2]);
      Tensor db = torch.zeros_like(in[3]);
      Tensor dc = torch.zeros_like(in[4]);
      kernels.backward(in[0], in[1], in[2], in[3], in[4], entering, gradient, du, ddelta, da, db, dc);
      return new Tensor[] {du, ddelta, da, db, dc};
    });
  }
}
