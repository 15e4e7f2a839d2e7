package org.fastllm.modules.ssm;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * The selective scan's CUDA kernels ({@code selective_scan.cu}), compiled at first use for the device and the
 * state size: one thread per (batch, channel, state), a block per run of channels of one group.
 *
 * <p>Takes state sizes that are powers of two up to 32 with at least {@code 32 / N} channels per group (every
 * Mamba configuration this project builds by default); anything else goes to the tensor-operation scan.
 */
final class CudaScanKernels implements ScanKernels {
  static final String SOURCE = "org/fastllm/modules/ssm/selective_scan.cu";
  private static final int MAX_THREADS = 256;
  private static final long MAX_GRID_Y = 65_535;

  /**
   * 32 steps, 16 at state 32: the backward keeps a chunk of states in registers and a row of per-step sums per
   * warp in shared memory ({@code 2 x warps x chunk x state} floats, 32 KiB at most).
   */
  @Override
  public int chunk(long state) {
    return chunkFor(state);
  }

  private static int chunkFor(long state) {
    return state > 16 ? 16 : 32;
  }

  @Override
  public boolean supports(long channels, long groups, long state) {
    return state >= 1 && state <= 32 && Long.bitCount(state) == 1 && channels % groups == 0
        && channelsPerBlock(channels / groups, state) > 0;
  }

  /**
   * The most channels of one group a block can hold: whole warps ({@code 32 / N} channels each), up to
   * {@value #MAX_THREADS} threads, dividing the group's channel count; 0 if a warp already spans two groups.
   */
  static int channelsPerBlock(long perGroup, long state) {
    long perWarp = 32 / state;
    for (long warps = MAX_THREADS / 32; warps >= 1; warps /= 2) {
      if (perGroup % (perWarp * warps) == 0) {
        return (int) (perWarp * warps);
      }
    }
    return 0;
  }

  @Override
  public boolean ready(Tensor u, long channels, long groups, long state) {
    return u.size(0) <= MAX_GRID_Y   // one row of blocks per batch entry
        && RuntimeKernels.tryCompile(SOURCE, u.device().index(), constants(channels, groups, state)).isPresent();
  }

  private static RuntimeKernels.Module module(Tensor u, long channels, long groups, long state) {
    return RuntimeKernels.compile(SOURCE, u.device().index(), constants(channels, groups, state));
  }

  private static Map<String, Integer> constants(long channels, long groups, long state) {
    return Map.of("STATE", (int) state, "CHANNELS", channelsPerBlock(channels / groups, state),
        "CHUNK", chunkFor(state));
  }

  @Override
  public void forward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y, Tensor entering) {
    Shape s = new Shape(u, a, b);
    module(u, s.channels, s.groups, s.state).launch("selective_scan_forward", s.grid(), s.threads(), 0,
        u, delta, a, b, c, y, entering, s.steps(), s.channelCount(), s.groupCount(), s.chunks());
  }

  @Override
  public void backward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor entering, Tensor dy,
      Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc) {
    Shape s = new Shape(u, a, b);
    module(u, s.channels, s.groups, s.state).launch("selective_scan_backward", s.grid(), s.threads(), 0,
        u, delta, a, b, c, entering, dy, du, ddelta, da, db, dc, s.steps(), s.channelCount(), s.groupCount(),
        s.chunks());
  }

  private record Shape(long batch, long time, long channels, long groups, long state) {
    Shape(Tensor u, Tensor a, Tensor b) {
      this(u.size(0), u.size(1), u.size(2), b.size(2), a.size(1));
    }

    int perBlock() {
      return channelsPerBlock(channels / groups, state);
    }

    RuntimeKernels.Grid grid() {
      return RuntimeKernels.grid(channels / perBlock(), batch);
    }

    int threads() {
      return (int) (perBlock() * state);
    }

    int steps() {
      return Math.toIntExact(time);
    }

    int channelCount() {
      return Math.toIntExact(channels);
    }

    int groupCount() {
      return Math.toIntExact(groups);
    }

    int chunks() {
      return Math.toIntExact((time + chunkFor(state) - 1) / chunkFor(state));
    }
  }
}
