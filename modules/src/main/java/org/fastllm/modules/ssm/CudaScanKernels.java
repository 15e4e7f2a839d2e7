package org.fastllm.modules.ssm;

import java.util.Map;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * The selective scan's CUDA kernels ({@code selective_scan.cu}), compiled at first use for the device and the
 * state size: one thread per (batch, channel, state), a block per run of channels of one group.
 *
 * <p>Takes state sizes that are powers of two up to 32 with at least {@code 32 / N} channels per group (every
 * Mamba configuration this project builds by default); anything else goes to the tensor-operation scan.
 *
 * <p>The backward splits time into segments of whole chunks that run side by side, each starting from what the
 * later ones hand back (the source's header gives the maths). It takes as many segments as fill the device's
 * resident blocks once over, given the blocks without segments: at the Mamba 2 timing shape of
 * {@code KernelCheck} (batch 4, 2048 channels in blocks of 16) the blocks already fill an H200 and it keeps one
 * segment; at batch 1 it takes 4. Each segment keeps at least {@value #MIN_SEGMENT_CHUNKS} chunks, and there are
 * at most {@value #MAX_SEGMENTS}. The system property {@code fastllm.scanSegments=N} asks for {@code N} segments
 * instead (fewer when the sequence has fewer chunks; {@code 1} is the walk through all chunks in one block).
 */
final class CudaScanKernels implements ScanKernels {
  static final String SOURCE = "org/fastllm/modules/ssm/selective_scan.cu";
  private static final int MAX_THREADS = 256;
  private static final long MAX_GRID_Y = 65_535;
  static final int MIN_SEGMENT_CHUNKS = 4;
  static final int MAX_SEGMENTS = 64;

  /**
   * 32 steps, 16 at state 32: one kept state per chunk is the forward's memory beyond its output; the backward
   * recomputes a chunk's states span by span (4 steps) into registers and sums per step in shared memory.
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

  private static KernelModule module(Tensor u, long channels, long groups, long state) {
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

  /**
   * Also fills two temporaries, the dh every segment but the first leaves from a zero start and the product of its
   * decays ({@code [b, D, segments, N]}), when there is more than one segment.
   */
  @Override
  public void backward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor entering, Tensor dy,
      Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc) {
    Shape s = new Shape(u, a, b);
    KernelModule module = module(u, s.channels, s.groups, s.state);
    int blocks = Math.toIntExact(s.channels / s.perBlock());
    int wanted = segments(s.chunks(), blocks * s.batch,
        module.residentBlocks("selective_scan_backward", s.threads(), 0),
        System.getProperty("fastllm.scanSegments"));
    int segmentChunks = (s.chunks() + wanted - 1) / wanted;
    int segments = (s.chunks() + segmentChunks - 1) / segmentChunks;
    TensorOptions options = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(u.device()));
    long[] carried = {s.batch, s.channels, segments, s.state};
    Tensor local = torch.empty(carried, options, new MemoryFormatOptional());
    Tensor decays = torch.empty(carried, options, new MemoryFormatOptional());
    if (segments > 1) {
      module.launch("selective_scan_backward_carry", RuntimeKernels.grid((long) blocks * (segments - 1), s.batch),
          s.threads(), 0, delta, a, c, dy, local, decays, s.steps(), s.channelCount(), s.groupCount(), s.chunks(),
          segmentChunks);
    }
    module.launch("selective_scan_backward", RuntimeKernels.grid((long) blocks * segments, s.batch), s.threads(), 0,
        u, delta, a, b, c, entering, dy, du, ddelta, da, db, dc, local, decays, s.steps(), s.channelCount(),
        s.groupCount(), s.chunks(), segmentChunks);
  }

  /**
   * How many segments the backward splits {@code chunks} chunks into: {@code forced} (the value of
   * {@code fastllm.scanSegments}, or null) up to one per chunk; otherwise as many as fit
   * {@code blocks x segments} into the device's {@code resident} blocks, at most {@link #MAX_SEGMENTS} and with at
   * least {@link #MIN_SEGMENT_CHUNKS} chunks each, and at least one. The last segment may come out shorter, and
   * rounding to whole chunks per segment may give fewer.
   */
  static int segments(int chunks, long blocks, int resident, String forced) {
    if (forced != null) {
      int n = Integer.parseInt(forced.trim());
      if (n < 1) {
        throw new IllegalArgumentException("fastllm.scanSegments must be at least 1, got " + n);
      }
      return Math.min(n, chunks);
    }
    long fit = Math.min(resident / blocks, Math.min(chunks / MIN_SEGMENT_CHUNKS, MAX_SEGMENTS));
    return (int) Math.max(1, fit);
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
