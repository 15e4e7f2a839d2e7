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
    Forward f = run(u, delta, a, b, c);
    Tensor[] in = f.in();
    List<Tensor> saved = List.of(in[0], in[1], in[2], in[3], in[4], f.entering());
    return feature.attach(f.y(), List.of(u, delta, a, b, c), saved, dy -> {
      Tensor gradient = dy.to(torch.ScalarType.Float).contiguous();
      Tensor du = torch.empty_like(in[0]);
      Tensor ddelta = torch.empty_like(in[1]);
      Tensor da = torch.zeros_like(in[2]);
      Tensor db = torch.zeros_like(in[3]);
      Tensor dc = torch.zeros_like(in[4]);
      kernels.backward(in[0], in[1], in[2], in[3], in[4], f.entering(), gradient, du, ddelta, da, db, dc);
      return new Tensor[] {du, ddelta, da, db, dc};
    });
  }

  /**
   * The scan of a prompt from a zero state, without gradients: {@code {y, the state after the last step
   * [b, D, N]}}. The kernels keep the state entering each chunk; the last chunk's steps (at most one chunk) are
   * scanned again from it for the final state.
   */
  Tensor[] decode(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      Forward f = run(u, delta, a, b, c);
      Tensor[] in = f.in();
      long time = u.size(1);
      long chunk = kernels.chunk(a.size(1));
      long last = (time - 1) / chunk;
      long start = last * chunk;
      long rest = time - start;
      Tensor[] tail = SelectiveScan.tensorOperations((int) chunk).tensorScan(in[0].narrow(1, start, rest),
          in[1].narrow(1, start, rest), in[2], in[3].narrow(1, start, rest), in[4].narrow(1, start, rest),
          f.entering().select(2, last));
      return new Tensor[] {f.y(), tail[1].to(f.y().scalar_type())};
    }
  }

  /** The inputs as the kernels read them, the output in the tensor scan's type and the states entering chunks. */
  private record Forward(Tensor[] in, Tensor y, Tensor entering) {}

  private Forward run(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
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
    return new Forward(in, y, entering);
  }
}
