package org.fastllm.modules.ssm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ScanSegments;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.KernelModule;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

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
 * at most {@value #MAX_SEGMENTS}. {@code training.kernels.scan_segments: N} asks for {@code N} segments instead
 * (fewer when the sequence has fewer chunks; {@code 1} is the walk through all chunks in one block).
 *
 * <p>The forward splits the same way, by the same rule from its own resident blocks, but under auto only into
 * {@value #MIN_FORWARD_SEGMENTS} or more: at batch 1 of that shape into 6 on an H200, at batch 4 not at all.
 * {@code scan_segments} sets both.
 *
 * <pre>{@code ScanKernels kernels = new CudaScanKernels(ScanSegments.AUTO);}</pre>
 */
final class CudaScanKernels implements ScanKernels {
  static final String SOURCE = "org/fastllm/modules/ssm/selective_scan.cu";
  private static final int MAX_THREADS = 256;
  private static final int MAX_CHANNELS = 64;
  private static final long MAX_GRID_Y = 65_535;
  static final int MIN_SEGMENT_CHUNKS = 4;
  static final int MAX_SEGMENTS = 64;
  /**
   * The fewest segments the forward splits into when the choice is auto: its carry walks each segment once more
   * before the forward, so two segments take as long in sequence as one.
   */
  static final int MIN_FORWARD_SEGMENTS = 4;
  private final ScanSegments segments;

  /** The kernels with the backward's segments chosen as {@code segments} says (auto or a number). */
  CudaScanKernels(ScanSegments segments) {
    this.segments = segments;
  }

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

  /** Null when the kernels take this shape, otherwise why not. */
  static String shapeProblem(long channels, long groups, long state) {
    if (state < 1 || state > 32 || Long.bitCount(state) != 1) {
      return "the state size " + state + " is not a power of two up to 32";
    }
    if (channels % groups != 0) {
      return "the " + channels + " channels do not divide into " + groups + " groups";
    }
    if (channelsPerBlock(channels / groups, state) == 0) {
      return "a group's " + channels / groups + " channels do not fill a warp (" + 32 / state + " channels at state "
          + "size " + state + ")";
    }
    return null;
  }

  /**
   * The most channels of one group a block can hold: whole warps ({@code 32 / N} channels each), up to
   * {@value #MAX_THREADS} threads and {@value #MAX_CHANNELS} channels (whose chunk of rows the block keeps in shared
   * memory), dividing the group's channel count; 0 if a warp already spans two groups.
   */
  static int channelsPerBlock(long perGroup, long state) {
    long perWarp = 32 / state;
    for (long warps = MAX_THREADS / 32; warps >= 1; warps /= 2) {
      if (perGroup % (perWarp * warps) == 0 && perWarp * warps <= MAX_CHANNELS) {
        return (int) (perWarp * warps);
      }
    }
    return 0;
  }

  @Override
  public String unavailable(Tensor u, long channels, long groups, long state) {
    String why = KernelFeature.notOnCuda("the input is", u);
    if (why == null) {
      why = shapeProblem(channels, groups, state);
    }
    if (why == null && u.size(0) > MAX_GRID_Y) {   // one row of blocks per batch entry
      why = "the batch of " + u.size(0) + " is above " + MAX_GRID_Y;
    }
    if (why == null) {
      why = RuntimeKernels.availability();
    }
    if (why != null) {
      return why;
    }
    Map<String, Integer> constants = constants(channels, groups, state);
    return RuntimeKernels.tryCompile(SOURCE, u.device().index(), constants).isPresent() ? null
        : "selective_scan.cu did not compile: " + RuntimeKernels.failure(SOURCE, u.device().index(), constants);
  }

  private static KernelModule module(Tensor u, long channels, long groups, long state) {
    return RuntimeKernels.compile(SOURCE, u.device().index(), constants(channels, groups, state));
  }

  private static Map<String, Integer> constants(long channels, long groups, long state) {
    return Map.of("STATE", (int) state, "CHANNELS", channelsPerBlock(channels / groups, state),
        "CHUNK", chunkFor(state));
  }

  /**
   * Also fills two temporaries, like the backward's, where the forward splits time into segments: the state every
   * segment but the last leaves from a zero start and the product of its decays ({@code [b, D, segments, N]}).
   */
  @Override
  public void forward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y, Tensor entering) {
    Shape s = new Shape(u, a, b);
    KernelModule module = module(u, s.channels, s.groups, s.state);
    int segmentChunks = ceilDiv(s.chunks(), forwardSegments(s.chunks(), s.blocks() * s.batch,
        module.residentBlocks("selective_scan_forward", s.threads(), 0), segments.value()));
    Tensor[] carried = carried(u, s, segmentChunks);
    for (KernelLaunch launch : forwardLaunches(u, delta, a, b, c, y, entering, carried[0], carried[1],
        segmentChunks)) {
      module.launch(launch);
    }
  }

  /**
   * The forward's launches, the carry first where there is more than one segment of {@code segmentChunks} chunks;
   * {@code local} and {@code decays} are {@code [b, D, segments, N]}.
   */
  static List<KernelLaunch> forwardLaunches(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y,
      Tensor entering, Tensor local, Tensor decays, int segmentChunks) {
    return segmented(new Shape(u, a, b), segmentChunks, "selective_scan_forward_carry",
        List.<Object>of(u, delta, a, b, local, decays), "selective_scan_forward",
        List.<Object>of(u, delta, a, b, c, y, entering, local, decays));
  }

  /**
   * The launches of a segmented pass: {@code carry} over every segment but one where there are several, then
   * {@code walk} over all of them, each with its arguments followed by the shape's steps, channels, groups and
   * chunks and {@code segmentChunks}.
   */
  private static List<KernelLaunch> segmented(Shape s, int segmentChunks, String carry, List<Object> carryArguments,
      String walk, List<Object> walkArguments) {
    int segments = ceilDiv(s.chunks(), segmentChunks);
    List<Object> sizes = List.<Object>of(s.steps(), s.channelCount(), s.groupCount(), s.chunks(), segmentChunks);
    List<KernelLaunch> launches = new ArrayList<>();
    if (segments > 1) {
      launches.add(KernelLaunch.of(carry, RuntimeKernels.grid((long) s.blocks() * (segments - 1), s.batch),
          s.threads(), Stream.concat(carryArguments.stream(), sizes.stream()).toArray()));
    }
    launches.add(KernelLaunch.of(walk, RuntimeKernels.grid((long) s.blocks() * segments, s.batch), s.threads(),
        Stream.concat(walkArguments.stream(), sizes.stream()).toArray()));
    return launches;
  }

  /** {@code a / b} rounded up: the chunks per segment of {@code a} chunks in {@code b} segments, and the reverse. */
  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
  }

  /** The carried temporaries of {@code segmentChunks} chunks per segment: {@code [b, D, segments, N]} twice. */
  private static Tensor[] carried(Tensor u, Shape s, int segmentChunks) {
    long[] shape = {s.batch, s.channels, ceilDiv(s.chunks(), segmentChunks), s.state};
    return new Tensor[] {KernelFeature.empty(u, torch.ScalarType.Float, shape),
        KernelFeature.empty(u, torch.ScalarType.Float, shape)};
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
    int segmentChunks = ceilDiv(s.chunks(), segments(s.chunks(), s.blocks() * s.batch,
        module.residentBlocks("selective_scan_backward", s.threads(), 0), segments.value()));
    Tensor[] carried = carried(u, s, segmentChunks);
    for (KernelLaunch launch : backwardLaunches(u, delta, a, b, c, entering, dy, du, ddelta, da, db, dc, carried[0],
        carried[1], segmentChunks)) {
      module.launch(launch);
    }
  }

  /**
   * The backward's launches, the carry first where there is more than one segment of {@code segmentChunks}
   * chunks; {@code local} and {@code decays} are {@code [b, D, segments, N]}.
   */
  static List<KernelLaunch> backwardLaunches(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c,
      Tensor entering, Tensor dy, Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc, Tensor local,
      Tensor decays, int segmentChunks) {
    return segmented(new Shape(u, a, b), segmentChunks, "selective_scan_backward_carry",
        List.<Object>of(delta, a, c, dy, local, decays), "selective_scan_backward",
        List.<Object>of(u, delta, a, b, c, entering, dy, du, ddelta, da, db, dc, local, decays));
  }

  /**
   * How many segments the backward splits {@code chunks} chunks into: {@code forced} (the value of
   * {@code training.kernels.scan_segments}, or null for auto) up to one per chunk; otherwise as many as fit
   * {@code blocks x segments} into the device's {@code resident} blocks, at most {@link #MAX_SEGMENTS} and with at
   * least {@link #MIN_SEGMENT_CHUNKS} chunks each, and at least one. The last segment may come out shorter, and
   * rounding to whole chunks per segment may give fewer.
   */
  static int segments(int chunks, long blocks, int resident, Integer forced) {
    if (forced != null) {
      if (forced < 1) {
        throw new IllegalArgumentException("training.kernels.scan_segments must be at least 1, got " + forced);
      }
      return Math.min(forced, chunks);
    }
    long fit = Math.min(resident / blocks, Math.min(chunks / MIN_SEGMENT_CHUNKS, MAX_SEGMENTS));
    return (int) Math.max(1, fit);
  }

  /**
   * How many segments the forward splits {@code chunks} chunks into: as {@link #segments} says, except that under
   * auto ({@code forced} null) fewer than {@value #MIN_FORWARD_SEGMENTS} become one.
   */
  static int forwardSegments(int chunks, long blocks, int resident, Integer forced) {
    int wanted = segments(chunks, blocks, resident, forced);
    return forced == null && wanted < MIN_FORWARD_SEGMENTS ? 1 : wanted;
  }

  private record Shape(long batch, long time, long channels, long groups, long state) {
    Shape(Tensor u, Tensor a, Tensor b) {
      this(u.size(0), u.size(1), u.size(2), b.size(2), a.size(1));
    }

    int perBlock() {
      return channelsPerBlock(channels / groups, state);
    }

    int blocks() {
      return Math.toIntExact(channels / perBlock());
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
