package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The scans continuing a decoded sequence from a non-zero state (a piece that starts anywhere in a chunk) give the
 * outputs and the final state of the recurrence stepped in float64 from that state.
 */
class ScanContinuationTest {

  @ParameterizedTest(name = "chunk {0}, t {1}, groups {2}")
  @CsvSource(textBlock = """
      4, 1, 1
      4, 3, 2
      4, 5, 1
      4, 9, 2
      8, 8, 4
      1, 3, 1
      """)
  void selectiveDecode_fromAState_matchesTheSteppedRecurrence(int chunk, int time, int groups) {
    Torch.seed(31L * chunk + time);
    long batch = 2;
    long channels = 8;
    long state = 4;
    Selective in = Selective.drawn(batch, time, channels, state, groups);
    Tensor initial = Torch.randn(torch.ScalarType.Double, batch, channels, state);
    Tensor[] expected = in.stepped(initial);
    try (NoGradGuard noGrad = new NoGradGuard(); KeptTensor kept = new KeptTensor()) {
      kept.set(f(initial).reshape(batch, groups, channels / groups, state));
      Tensor y = in.decode(SelectiveScan.tensorOperations(chunk), kept);
      assertThat(Torch.relativeError(y, expected[0])).as("outputs").isLessThan(1e-5);
      assertThat(Torch.relativeError(kept.get().reshape(batch, channels, state), expected[1]))
          .as("final state").isLessThan(1e-5);
    }
  }

  /** A prompt from a zero state through the kernels (their CPU twin): outputs and the state after it. */
  @ParameterizedTest(name = "chunk {0}, t {1}, groups {2}")
  @CsvSource(textBlock = """
      4, 2, 1
      4, 8, 2
      4, 11, 1
      8, 5, 4
      """)
  void selectiveDecode_promptThroughTheKernels_matchesTheSteppedRecurrence(int chunk, int time, int groups) {
    Torch.seed(7L * chunk + time);
    long batch = 2;
    long channels = 8;
    long state = 4;
    Selective in = Selective.drawn(batch, time, channels, state, groups);
    Tensor[] expected = in.stepped(
        torch.zeros(new long[] {batch, channels, state}, new TensorOptions(torch.ScalarType.Double)));
    KernelsConfig scanOn = new KernelsConfig(null, null, KernelChoice.ON, null, null, null, null).withDefaults();
    LayerContext context = LayerContext.of(scanOn, JavaScanKernels.in(KernelImplementations.STANDARD, chunk));
    try (NoGradGuard noGrad = new NoGradGuard(); KeptTensor kept = new KeptTensor()) {
      Tensor y = in.decode(SelectiveScan.of(chunk, context), kept);
      assertThat(context.report().snapshot()).containsEntry("scan", KernelReport.KERNEL);
      assertThat(Torch.relativeError(y, expected[0])).as("outputs").isLessThan(1e-5);
      assertThat(Torch.relativeError(kept.get().reshape(batch, channels, state), expected[1]))
          .as("final state").isLessThan(1e-5);
    }
  }

  @ParameterizedTest(name = "chunk {0}, t {1}")
  @CsvSource(textBlock = """
      4, 1
      4, 3
      4, 6
      4, 9
      2, 5
      """)
  void scalarDecayDecode_fromAState_matchesTheSteppedRecurrence(int chunk, int time) {
    Torch.seed(17L * chunk + time);
    long batch = 2;
    long heads = 3;
    long headSize = 4;
    long state = 5;
    Tensor x = Torch.randn(torch.ScalarType.Double, batch, time, heads, headSize);
    Tensor logDecay = torch.rand(new long[] {batch, time, heads}, new TensorOptions(torch.ScalarType.Double)).neg();
    Tensor b = Torch.randn(torch.ScalarType.Double, batch, time, heads, state);
    Tensor c = Torch.randn(torch.ScalarType.Double, batch, time, heads, state);
    Tensor initial = Torch.randn(torch.ScalarType.Double, batch, heads, headSize, state);
    Tensor[] expected = steppedScalarDecay(x, logDecay, b, c, initial);
    try (NoGradGuard noGrad = new NoGradGuard(); KeptTensor kept = new KeptTensor()) {
      kept.set(f(initial));
      Tensor y = new ScalarDecayScan(chunk).decode(f(x), f(logDecay), f(b), f(c), kept);
      assertThat(Torch.relativeError(y, expected[0])).as("outputs").isLessThan(1e-5);
      assertThat(Torch.relativeError(kept.get(), expected[1])).as("final state").isLessThan(1e-5);
    }
  }

  /** The selective scan's inputs, drawn in float64: decay rates in (1e-3, 2], {@code A} as a Mamba 1 mixer starts. */
  private record Selective(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    static Selective drawn(long batch, long time, long channels, long state, long groups) {
      return new Selective(Torch.randn(torch.ScalarType.Double, batch, time, channels),
          torch.rand(new long[] {batch, time, channels}, new TensorOptions(torch.ScalarType.Double))
              .mul(new Scalar(2.0)).add(new Scalar(1e-3)),
          SsmInit.aLog(channels, state).to(torch.ScalarType.Double).exp().neg(),
          Torch.randn(torch.ScalarType.Double, batch, time, groups, state),
          Torch.randn(torch.ScalarType.Double, batch, time, groups, state));
    }

    /** {@code scan} continuing from the state {@code kept} holds, in float32. */
    Tensor decode(SelectiveScan scan, KeptTensor kept) {
      return scan.decode(f(u), f(delta), f(a), f(b), f(c), kept);
    }

    /** The outputs and the final state of the recurrence stepped in float64 from {@code h}. */
    Tensor[] stepped(Tensor h) {
      return steppedSelective(u, delta, a, b, c, h);
    }
  }

  /** {@code h = exp(delta A) h + delta u B}, {@code y = C . h} from {@code h} {@code [b, D, N]}: {y, last h}. */
  private static Tensor[] steppedSelective(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor h) {
    long perGroup = u.size(2) / b.size(2);
    Tensor bc = b.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(2),
        new org.bytedeco.pytorch.LongOptional());
    Tensor cc = c.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(2),
        new org.bytedeco.pytorch.LongOptional());
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < u.size(1); t++) {
      Tensor dt = delta.select(1, t).unsqueeze(2);
      h = dt.mul(a).exp().mul(h).add(dt.mul(u.select(1, t).unsqueeze(2)).mul(bc.select(1, t)));
      ys.add(h.mul(cc.select(1, t)).sum(new long[] {2}, false, new ScalarTypeOptional()));
    }
    return new Tensor[] {torch.stack(new TensorVector(ys.toArray(new Tensor[0])), 1), h};
  }

  /** Per head {@code h = exp(a) h + x B^T}, {@code y = h C} from {@code h} {@code [b, H, P, N]}: {y, last h}. */
  private static Tensor[] steppedScalarDecay(Tensor x, Tensor logDecay, Tensor b, Tensor c, Tensor h) {
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < x.size(1); t++) {
      Tensor decay = logDecay.select(1, t).exp().unsqueeze(2).unsqueeze(3);
      h = decay.mul(h).add(x.select(1, t).unsqueeze(3).mul(b.select(1, t).unsqueeze(2)));
      ys.add(h.mul(c.select(1, t).unsqueeze(2)).sum(new long[] {3}, false, new ScalarTypeOptional()));
    }
    return new Tensor[] {torch.stack(new TensorVector(ys.toArray(new Tensor[0])), 1), h};
  }

  private static Tensor f(Tensor t) {
    return t.to(torch.ScalarType.Float);
  }
}
