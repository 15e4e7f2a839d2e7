package org.fastllm.modules.norm;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The normalization's CUDA kernels ({@code norm.cu}), compiled at first use for the device, the normalized size
 * and the kind: a block of {@value #THREADS} threads per row forward; backward, {@value #BLOCKS} blocks at most
 * walking the rows, each leaving a row of weight and bias sums that one {@code sum} over blocks adds up.
 *
 * <pre>{@code
 * // given Tensor x, Tensor weight, Tensor bias, Tensor y, Tensor mean, Tensor rstd
 * new CudaNormKernels().forward(x, weight, bias, 1e-5, y, mean, rstd);
 * }</pre>
 */
final class CudaNormKernels implements NormKernels {
  static final String SOURCE = "org/fastllm/modules/norm/norm.cu";
  private static final int THREADS = 256;
  /** Enough blocks to fill a large GPU several times over; their partial sums cost {@code BLOCKS x size} floats. */
  private static final int BLOCKS = 512;
  /** Each thread keeps {@code size / THREADS} values of a row in registers: up to 32 (a hidden size of 8192). */
  private static final long MAX_SIZE = 32L * THREADS;

  @Override
  public String unavailable(Tensor x, long size, boolean rms) {
    String why = KernelFeature.notOnCuda("the input is", x);
    if (why != null) {
      return why;
    }
    if (size < 1 || size > MAX_SIZE) {
      return "the normalized size " + size + " is outside 1.." + MAX_SIZE;
    }
    if (x.numel() / size > Integer.MAX_VALUE) {
      return "the input has " + x.numel() / size + " rows, more than an int counts";
    }
    if (RuntimeKernels.availability() != null) {
      return RuntimeKernels.availability();
    }
    int device = x.device().index();
    return RuntimeKernels.tryCompile(SOURCE, device, constants(size, rms)).isPresent() ? null
        : "norm.cu did not compile: " + RuntimeKernels.failure(SOURCE, device, constants(size, rms));
  }

  private static Map<String, Integer> constants(long size, boolean rms) {
    return Map.of("HIDDEN", (int) size, "THREADS", THREADS, "RMS", rms ? 1 : 0);
  }

  private static KernelModule module(Tensor x, long size, boolean rms) {
    return RuntimeKernels.compile(SOURCE, x.device().index(), constants(size, rms));
  }

  @Override
  public void forward(Tensor x, Tensor weight, Tensor bias, double epsilon, Tensor y, Tensor mean, Tensor rstd) {
    long size = x.size(1);
    if (x.size(0) == 0) {
      return;
    }
    module(x, size, bias == null).launch(forwardLaunch(x, weight, bias, epsilon, y, mean, rstd));
  }

  static KernelLaunch forwardLaunch(Tensor x, Tensor weight, Tensor bias, double epsilon, Tensor y, Tensor mean,
      Tensor rstd) {
    return KernelLaunch.of("norm_forward", RuntimeKernels.grid(x.size(0), 1), THREADS,
        x, weight, bias == null ? weight : bias, y, mean, rstd, (float) epsilon);
  }

  @Override
  public void backward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean rms, Tensor dx,
      Tensor dweight, Tensor dbias) {
    long size = x.size(1);
    long rows = x.size(0);
    int blocks = blocks(rows);
    // every block walks at least one row and writes its whole row of sums
    Tensor partialWeight = KernelFeature.empty(x, torch.ScalarType.Float, blocks, size);
    Tensor partialBias = rms ? partialWeight : KernelFeature.empty(x, torch.ScalarType.Float, blocks, size);
    if (rows == 0) {
      partialWeight.zero_();
      partialBias.zero_();
    } else {
      module(x, size, rms).launch(backwardLaunch(dy, x, weight, mean, rstd, dx, partialWeight, partialBias));
    }
    long[] overBlocks = {0};
    if (dweight != null) {
      torch.sum_out(dweight, partialWeight, overBlocks);
    }
    if (dbias != null && !rms) {
      torch.sum_out(dbias, partialBias, overBlocks);
    }
  }

  private static int blocks(long rows) {
    return (int) Math.max(1, Math.min(rows, BLOCKS));
  }

  static KernelLaunch backwardLaunch(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dx,
      Tensor partialWeight, Tensor partialBias) {
    return KernelLaunch.of("norm_backward", RuntimeKernels.grid(blocks(x.size(0)), 1), THREADS,
        dy, x, weight, mean, rstd, dx, partialWeight, partialBias, (int) x.size(0));
  }
}
