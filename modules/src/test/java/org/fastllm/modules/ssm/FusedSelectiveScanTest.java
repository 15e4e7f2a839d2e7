package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Scopes;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The hand-written scan (its algorithm, as {@link JavaScanKernels} runs it on the CPU, and its autograd wiring)
 * against the tensor-operation scan in float64, whose own check is the step-by-step recurrence.
 */
class FusedSelectiveScanTest {

  /** Leaves in float64: u, delta (positive), A (negative), B, C, the skip weight and the loss weights. */
  private record Inputs(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor skip, Tensor w) {
    static Inputs random(long batch, long time, long channels, long groups, long state, double maxDelta) {
      TensorOptions f64 = new TensorOptions(torch.ScalarType.Double);
      return new Inputs(Torch.randn(torch.ScalarType.Double, batch, time, channels),
          torch.rand(new long[] {batch, time, channels}, f64).mul(new Scalar(maxDelta)).add(new Scalar(1e-3)),
          SsmInit.aLog(channels, state).to(torch.ScalarType.Double).exp().neg(),
          Torch.randn(torch.ScalarType.Double, batch, time, groups, state),
          Torch.randn(torch.ScalarType.Double, batch, time, groups, state),
          Torch.randn(torch.ScalarType.Double, channels),
          Torch.randn(torch.ScalarType.Double, batch, time, channels));
    }

    Inputs as(torch.ScalarType type) {
      return new Inputs(leaf(u, type), leaf(delta, type), leaf(a, type), leaf(b, type), leaf(c, type),
          leaf(skip, type), w.to(type));
    }

    private static Tensor leaf(Tensor t, torch.ScalarType type) {
      return t.to(type).detach().clone().set_requires_grad(true);
    }

    List<Tensor> leaves() {
      return List.of(u, delta, a, b, c, skip);
    }
  }

  /** The scan through {@code kernels}, its backward on a tape of its own. */
  private static FusedSelectiveScan fused(ScanKernels kernels) {
    return new FusedSelectiveScan(kernels, LayerContext.defaults().feature(KernelKey.SCAN));
  }

  /** A scan as a mixer uses it (u also feeds the skip term), then a weighted sum as the loss. */
  private static Tensor loss(Inputs in, Tensor y) {
    return y.add(in.u().mul(in.skip())).mul(in.w()).sum();
  }

  @ParameterizedTest(name = "chunk {0}, t {1}, {2} channels in {3} groups, delta up to {4}")
  @CsvSource(textBlock = """
      4,  37, 8,  1, 0.1
      4,  37, 8,  2, 5
      8,  64, 16, 4, 2
      32, 33, 8,  8, 1
      1,  5,  4,  2, 1
      """)
  void fusedScan_valuesAndGradients_matchTensorScanInFloat64(int chunk, int time, int channels, int groups,
      double maxDelta) {
    Torch.seed(31L * chunk + time);
    Inputs exact = Inputs.random(2, time, channels, groups, 4, maxDelta).as(torch.ScalarType.Double);
    Tensor expected = SelectiveScan.tensorOperations(chunk).tensorScan(exact.u(), exact.delta(), exact.a(), exact.b(), exact.c());
    loss(exact, expected).backward();

    Inputs single = exact.as(torch.ScalarType.Float);
    Tensor actual = fused(new JavaScanKernels(chunk))
        .scan(single.u(), single.delta(), single.a(), single.b(), single.c());
    loss(single, actual).backward();

    assertThat(Torch.relativeError(actual, expected) < 1e-5).as("y: " + Torch.relativeError(actual, expected)).isTrue();
    String[] names = {"u", "delta", "A", "B", "C", "D"};
    for (int i = 0; i < names.length; i++) {
      Tensor want = exact.leaves().get(i).grad();
      Tensor got = single.leaves().get(i).grad();
      double error = Torch.relativeError(got, want, 0.1);
      assertThat(error < 1e-4).as("d loss / d " + names[i] + ": relative error " + error).isTrue();
    }
  }

  /**
   * The backward in segments, as the CUDA kernels split time, against the tensor-operation scan in float64 and
   * against the backward in one segment: several segments, times that end inside a chunk, last segments shorter than
   * the others, one chunk per segment, and a segment as long as the sequence (then the same arithmetic as one).
   */
  @ParameterizedTest(name = "chunk {0}, t {1}, {2} chunks per segment: {3} segments, delta up to {4}")
  @CsvSource(textBlock = """
      4, 37, 3,  4,  1
      4, 37, 4,  3,  5
      4, 37, 1,  10, 1
      8, 64, 2,  4,  2
      1, 5,  2,  3,  1
      4, 37, 10, 1,  1
      """)
  void segmentedBackward_givesTheGradientsOfOneSegment(int chunk, int time, int segmentChunks, int segments,
      double maxDelta) {
    JavaScanKernels segmented = new JavaScanKernels(chunk, segmentChunks);
    assertThat(segmented.segments(time)).isEqualTo(segments);
    Torch.seed(17L * chunk + time + segmentChunks);
    Inputs exact = Inputs.random(2, time, 8, 2, 4, maxDelta).as(torch.ScalarType.Double);
    loss(exact, SelectiveScan.tensorOperations(chunk).tensorScan(exact.u(), exact.delta(), exact.a(), exact.b(), exact.c()))
        .backward();
    Inputs whole = exact.as(torch.ScalarType.Float);
    loss(whole, fused(new JavaScanKernels(chunk))
        .scan(whole.u(), whole.delta(), whole.a(), whole.b(), whole.c())).backward();
    Inputs split = exact.as(torch.ScalarType.Float);
    loss(split, fused(segmented).scan(split.u(), split.delta(), split.a(), split.b(), split.c()))
        .backward();

    String[] names = {"u", "delta", "A", "B", "C", "D"};
    for (int i = 0; i < names.length; i++) {
      Tensor got = split.leaves().get(i).grad();
      Tensor one = whole.leaves().get(i).grad();
      double error = Torch.relativeError(got, exact.leaves().get(i).grad(), 0.1);
      assertThat(error < 1e-4).as("d loss / d " + names[i] + " against float64: relative error " + error).isTrue();
      double apart = Torch.relativeError(got, one, 0.1);
      assertThat(apart < 1e-5).as("d loss / d " + names[i] + " against one segment: relative error " + apart).isTrue();
      if (segments == 1) {
        assertThat(torch.equal(got, one)).as("one segment is the walk through all chunks: " + names[i]).isTrue();
      }
    }
  }

  /**
   * A model runs each layer in a pointer scope that closes when the layer returns (Scopes.scoped); the scan's
   * backward, run later, must still find the float32 inputs and chunk states it saved.
   */
  @Test
  void forwardInAScopeThatClosesBeforeTheBackward_givesTheSameGradients() {
    Torch.seed(11);
    Inputs open = Inputs.random(2, 40, 8, 2, 4, 1).as(torch.ScalarType.Float);
    Inputs closed = open.as(torch.ScalarType.Float);
    FusedSelectiveScan fused = fused(new JavaScanKernels(8));
    loss(open, fused.scan(open.u(), open.delta(), open.a(), open.b(), open.c())).backward();

    Tensor y = Scopes.scoped(() -> fused.scan(closed.u(), closed.delta(), closed.a(), closed.b(), closed.c()));
    System.gc();   // a freed handle would show now, not by luck later
    loss(closed, y).backward();

    for (int i = 0; i < 6; i++) {
      assertThat(Torch.relativeError(closed.leaves().get(i).grad(), open.leaves().get(i).grad(), 0.1) < 1e-6)
          .as("input " + i)
          .isTrue();
    }
  }

  @Test
  void twoScansInARow_eachBackwardPairsWithItsOwnForward() {
    Torch.seed(7);
    Inputs first = Inputs.random(2, 12, 8, 2, 4, 1).as(torch.ScalarType.Double);
    Inputs second = Inputs.random(2, 12, 8, 4, 4, 1).as(torch.ScalarType.Double);
    chain(first, second, (in) -> SelectiveScan.tensorOperations(4).tensorScan(in.u(), in.delta(), in.a(), in.b(), in.c()));
    Inputs first32 = first.as(torch.ScalarType.Float);
    Inputs second32 = second.as(torch.ScalarType.Float);
    FusedSelectiveScan fused = fused(new JavaScanKernels(4));
    chain(first32, second32, (in) -> fused.scan(in.u(), in.delta(), in.a(), in.b(), in.c()));
    for (int i = 0; i < 6; i++) {
      assertThat(Torch.relativeError(first32.leaves().get(i).grad(), first.leaves().get(i).grad(), 0.1) < 1e-4)
          .as("first scan, input " + i)
          .isTrue();
      assertThat(Torch.relativeError(second32.leaves().get(i).grad(), second.leaves().get(i).grad(), 0.1) < 1e-4)
          .as("second scan, input " + i)
          .isTrue();
    }
  }

  /** The second scan's u is the first scan's output (tanh'd), so its gradient flows back through the first. */
  private static void chain(Inputs first, Inputs second, java.util.function.Function<Inputs, Tensor> scan) {
    Tensor y1 = scan.apply(first);
    Inputs fed = new Inputs(torch.tanh(y1).add(second.u()), second.delta(), second.a(), second.b(), second.c(),
        second.skip(), second.w());
    Tensor y2 = scan.apply(fed);
    loss(fed, y2).add(loss(first, y1)).backward();
  }

  @Test
  void withoutAutograd_theKernelOutputComesBackUnconnected() {
    Inputs in = Inputs.random(1, 6, 4, 1, 4, 1).as(torch.ScalarType.Float);
    try (org.bytedeco.pytorch.NoGradGuard noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
      Tensor y = fused(new JavaScanKernels(4)).scan(in.u(), in.delta(), in.a(), in.b(), in.c());
      assertThat(!y.requires_grad()).as("no graph without autograd").isTrue();
      Tensor expected = SelectiveScan.tensorOperations(4).tensorScan(in.u(), in.delta(), in.a(), in.b(), in.c());
      assertThat(Torch.relativeError(y, expected) < 1e-5).isTrue();
    }
  }

  @Test
  void outputType_isTheInputsShared_orFloat32WhenMixed_asTheTensorScanGives() {
    Inputs in = Inputs.random(1, 5, 4, 1, 4, 1);
    FusedSelectiveScan fused = fused(new JavaScanKernels(4));
    Inputs bf16 = in.as(torch.ScalarType.BFloat16);
    Tensor allBf16 = fused.scan(bf16.u(), bf16.delta(), bf16.a(), bf16.b(), bf16.c());
    assertThat(allBf16.scalar_type().intern())
        .as("a model cast to bf16 stays bf16")
        .isEqualTo(torch.ScalarType.BFloat16);
    Tensor mixed = fused.scan(bf16.u(), bf16.delta(), in.as(torch.ScalarType.Float).a(), bf16.b(), bf16.c());
    assertThat(mixed.scalar_type().intern()).as("autocast's float32 A gives float32").isEqualTo(torch.ScalarType.Float);
    assertThat(torch.ScalarType.Float)
        .isEqualTo(SelectiveScan.tensorOperations(4).tensorScan(bf16.u(), bf16.delta(), in.as(torch.ScalarType.Float).a(),
            bf16.b(), bf16.c()).scalar_type().intern());
    mixed.sum().add(allBf16.sum()).backward();
    assertThat(bf16.u().grad().scalar_type().intern())
        .as("gradients in the input's type")
        .isEqualTo(torch.ScalarType.BFloat16);
  }

  @Test
  void cudaKernels_blockShapes_keepEachBlockInsideOneGroup() {
    assertThat(CudaScanKernels.channelsPerBlock(16, 16)).as("Mamba 2: a head of 16 channels per block").isEqualTo(16);
    assertThat(CudaScanKernels.channelsPerBlock(1536, 16)).as("Mamba 1: one group, 256 threads").isEqualTo(16);
    assertThat(CudaScanKernels.channelsPerBlock(8, 16)).isEqualTo(8);
    assertThat(CudaScanKernels.channelsPerBlock(24, 32)).as("one channel per warp at state 32").isEqualTo(8);
    assertThat(CudaScanKernels.channelsPerBlock(1, 16)).as("two groups would share a warp").isEqualTo(0);
    assertThat(CudaScanKernels.channelsPerBlock(1024, 1)).as("state 1: 64 channels, whose chunk fits shared memory")
        .isEqualTo(64);
    assertThat(CudaScanKernels.shapeProblem(1536, 96, 16)).isNull();
    assertThat(CudaScanKernels.shapeProblem(1536, 96, 12))
        .isEqualTo("the state size 12 is not a power of two up to 32");
    assertThat(CudaScanKernels.shapeProblem(64, 1, 64))
        .as("state 64 is more than a warp")
        .isEqualTo("the state size 64 is not a power of two up to 32");
    assertThat(CudaScanKernels.shapeProblem(16, 16, 16))
        .isEqualTo("a group's 1 channels do not fill a warp (2 channels at state size 16)");
  }

  @Test
  void cudaKernels_segments_fillTheResidentBlocksOnce() {
    // H200, 132 multiprocessors of 4 backward blocks; Mamba 2 at 2048 channels: 128 blocks per batch entry
    assertThat(CudaScanKernels.segments(64, 4 * 128, 528, null)).as("batch 4 already fills the device").isEqualTo(1);
    assertThat(CudaScanKernels.segments(64, 2 * 128, 528, null)).isEqualTo(2);
    assertThat(CudaScanKernels.segments(64, 128, 528, null)).as("batch 1").isEqualTo(4);
    assertThat(CudaScanKernels.segments(9, 8, 528, null)).as("at least " + CudaScanKernels.MIN_SEGMENT_CHUNKS
        + " chunks a segment").isEqualTo(2);
    assertThat(CudaScanKernels.segments(7, 8, 528, null)).as("short sequences take one segment").isEqualTo(1);
    assertThat(CudaScanKernels.segments(100_000, 1, 528, null)).isEqualTo(CudaScanKernels.MAX_SEGMENTS);
    assertThat(CudaScanKernels.segments(64, 2, 528, 1)).as("scan_segments overrides the rule").isEqualTo(1);
    assertThat(CudaScanKernels.segments(64, 4 * 128, 528, 8)).isEqualTo(8);
    assertThat(CudaScanKernels.segments(10, 4 * 128, 528, 100)).as("at most one segment per chunk").isEqualTo(10);
  }

  @Test
  void cudaKernels_forwardSegments_onlyWhereTheyHalveTheStepsInSequence() {
    // an H200 holds 6 forward blocks of 256 threads per multiprocessor, 132 multiprocessors: 792 resident blocks
    assertThat(CudaScanKernels.forwardSegments(64, 128, 792, null)).as("batch 1, 2048 channels in blocks of 16")
        .isEqualTo(6);
    assertThat(CudaScanKernels.forwardSegments(64, 4 * 128, 792, null))
        .as("batch 4: one segment, the carry would walk half the steps again for two").isEqualTo(1);
    assertThat(CudaScanKernels.forwardSegments(64, 4 * 128, 792, 2)).as("scan_segments sets the forward's too")
        .isEqualTo(2);
  }

  /** The launches the CUDA kernels make, built from CPU tensors of a Mamba 2 shape, match the source's kernels. */
  @ParameterizedTest(name = "{0} chunks per segment")
  @CsvSource({"100", "3", "1"})
  void cudaKernels_launches_matchTheKernelsParametersInTheSource(int segmentChunks) {
    Inputs in = Inputs.random(2, 70, 32, 2, 16, 1).as(torch.ScalarType.Float);
    Tensor y = torch.zeros_like(in.u());
    Tensor entering = torch.zeros(new long[] {2, 32, 3, 16});
    Tensor carried = torch.zeros(new long[] {2, 32, 3, 16});
    List<org.fastllm.modules.cuda.KernelLaunch> forward = CudaScanKernels.forwardLaunches(in.u(), in.delta(), in.a(),
        in.b(), in.c(), y, entering, carried, carried, segmentChunks);
    forward.forEach(launch -> RuntimeKernels.check(CudaScanKernels.SOURCE, launch));
    assertThat(forward.size())
        .as("the forward's carry runs where there is more than one segment")
        .isEqualTo(segmentChunks < 3 ? 2 : 1);
    List<org.fastllm.modules.cuda.KernelLaunch> backward = CudaScanKernels.backwardLaunches(in.u(), in.delta(),
        in.a(), in.b(), in.c(), entering, y, y, y, in.a(), in.b(), in.c(), carried, carried, segmentChunks);
    backward.forEach(launch -> RuntimeKernels.check(CudaScanKernels.SOURCE, launch));
    assertThat(backward.size())
        .as("the carry runs where there is more than one segment")
        .isEqualTo(segmentChunks < 3 ? 2 : 1);
  }

  @Test
  void runtimeCompilation_onAMachineWithoutCuda_saysWhyInsteadOfFailing() {
    // the tests run with CUDA's classes but not its JNI glue (the parent pom: "classes only"): the probe fails
    String why = RuntimeKernels.availability();
    assertThat(why)
        .as("run-time compilation reported available on a classpath without CUDA's JNI libraries")
        .isNotNull();
    assertThat(why.startsWith("CUDA run-time compilation is unavailable (")).as(why).isTrue();
  }
}
