package org.fastllm.modules.norm;

import java.util.Map;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * The normalization's CUDA kernels ({@code norm.cu}), compiled at first use for the device, the normalized size
 * and the kind: a block of {@value #THREADS} threads per row forward; backward, {@value #BLOCKS} blocks at most
 * walking the rows, each leaving a row of weight and bias sums that one {@code sum} over blocks adds up.
 */
final class CudaNormKernels implements NormKernels {
  static final String SOURCE = "org/fastllm/modules/norm/norm.cu";
  private static final int THREADS = 256;
  /** Enough blocks to fill a large GPU several times over; their partial sums cost {@code BLOCKS x size} floats. */
  private static final int BLOCKS = 512;
  /** Each thread keeps {@code size / THREADS} values of a row in registers: up to 32 (a hidden size of 8192). */
  private static final long MAX_SIZE = 32L * THREADS;

  @Override
  public boolean ready(Tensor x, long size, boolean rms) {
    return x.is_cuda() && size >= 1 && size <= MAX_SIZE && x.numel() / size <= Integer.MAX_VALUE
        && RuntimeKernels.availability() == null
        && RuntimeKernels.tryCompile(SOURCE, x.device().index(), constants(size, rms)).isPresent();
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
    long rows = x.size(0);
    if (rows == 0) {
      return;
    }
    boolean rms = bias == null;
    module(x, size, rms).launch("norm_forward", RuntimeKernels.grid(rows, 1), THREADS, 0,
        x, weight, rms ? weight : bias, y, mean, rstd, (float) epsilon);
  }

  @Override
  public void backward(Tensor dy, Tensor x, Tensor weight, Tensor mean, Tensor rstd, boolean rms, Tensor dx,
      Tensor dweight, Tensor dbias) {
    long size = x.size(1);
    long rows = x.size(0);
    int blocks = (int) Math.max(1, Math.min(rows, BLOCKS));
    TensorOptions floats = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(x.device()));
    // every block walks at least one row and writes its whole row of sums
    Tensor partialWeight = torch.empty(new long[] {blocks, size}, floats, new MemoryFormatOptional());
    Tensor partialBias = rms ? partialWeight
        : torch.empty(new long[] {blocks, size}, floats, new MemoryFormatOptional());
    if (rows == 0) {
      partialWeight.zero_();
      partialBias.zero_();
    } else {
      module(x, size, rms).launch("norm_backward", RuntimeKernels.grid(blocks, 1), THREADS, 0,
          dy, x, weight, mean, rstd, dx, partialWeight, partialBias, (int) rows);
    }
    long[] overBlocks = {0};
    if (dweight != null) {
      torch.sum_out(dweight, partialWeight, overBlocks);
    }
    if (dbias != null && !rms) {
      torch.sum_out(dbias, partialBias, overBlocks);
    }
  }
}
