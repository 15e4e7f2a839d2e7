package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The chunked scan, all chunks at once, against the recurrence stepped one position at a time in float64: outputs,
 * the state after the last step, and the gradients of every input (the initial state's too), for lengths that end
 * inside a chunk, are shorter than one, or have a chunk per step; and against the chunk-by-chunk loop it replaces.
 */
class ScalarDecayScanTest {
  private static final torch.ScalarType F64 = torch.ScalarType.Double;

  /** One scan's inputs as leaves: x, log decay, B, C and the initial state (absent when not asked for). */
  private record Inputs(Tensor x, Tensor logDecay, Tensor b, Tensor c, Tensor initial) {
    static Inputs random(long time, long heads, long groups, boolean initial, double decayScale) {
      long batch = 2;
      long headSize = 3;
      long state = 4;
      return new Inputs(leaf(Torch.randn(F64, batch, time, heads, headSize)),
          leaf(torch.rand(new long[] {batch, time, heads}, new TensorOptions(F64)).mul(new Scalar(decayScale)).neg()),
          leaf(Torch.randn(F64, batch, time, groups, state)), leaf(Torch.randn(F64, batch, time, groups, state)),
          initial ? leaf(Torch.randn(F64, batch, heads, headSize, state)) : null);
    }

    /** Fresh leaves holding the same values in {@code type}. */
    Inputs copy(torch.ScalarType type) {
      return new Inputs(leaf(x.detach().to(type)), leaf(logDecay.detach().to(type)), leaf(b.detach().to(type)),
          leaf(c.detach().to(type)), initial == null ? null : leaf(initial.detach().to(type)));
    }

    List<Tensor> all() {
      List<Tensor> all = new ArrayList<>(List.of(x, logDecay, b, c));
      if (initial != null) {
        all.add(initial);
      }
      return all;
    }

    private static Tensor leaf(Tensor t) {
      return t.detach().clone().set_requires_grad(true);
    }
  }

  @ParameterizedTest(name = "chunk {0}, t {1}, heads {2} in {3} groups, initial state {4}")
  @CsvSource(textBlock = """
      4, 11, 2, 1, false
      4, 11, 4, 2, true
      4,  8, 4, 2, false
      1,  5, 3, 1, true
      1,  5, 3, 3, false
      8,  5, 2, 1, false
      8,  5, 2, 2, true
      4,  1, 1, 1, true
      3, 10, 6, 2, true
      """)
  void scan_anyChunkingAndState_matchesTheSteppedRecurrenceWithGradients(int chunk, int time, int heads, int groups,
      boolean initial) {
    Torch.seed(13L * chunk + 7L * time + heads + groups);
    Inputs exact = Inputs.random(time, heads, groups, initial, 1.0);
    Inputs actual = exact.copy(F64);
    Tensor[] expected = stepped(exact);
    Tensor[] scanned = new ScalarDecayScan(chunk).scan(actual.x(), actual.logDecay(), actual.b(), actual.c(),
        actual.initial());
    Tensor[] weights = {Torch.randn(F64, Torch.shape(expected[0])), Torch.randn(F64, Torch.shape(expected[1]))};
    loss(expected, weights).backward();
    loss(scanned, weights).backward();
    assertThat(Torch.relativeError(scanned[0], expected[0])).as("outputs").isLessThan(1e-12);
    assertThat(Torch.relativeError(scanned[1], expected[1])).as("state after the last step").isLessThan(1e-12);
    assertGradientsMatch(actual, exact, 1e-12);
  }

  @ParameterizedTest(name = "chunk {0}, t {1}, heads {2} in {3} groups, initial state {4}")
  @CsvSource(textBlock = """
      4, 11, 4, 2, true
      16, 50, 2, 1, false
      16, 48, 4, 4, true
      """)
  void scan_sameInputs_matchesTheChunkByChunkLoop(int chunk, int time, int heads, int groups, boolean initial) {
    Torch.seed(3L * chunk + time);
    Inputs loop = Inputs.random(time, heads, groups, initial, 1.0);
    Inputs batched = loop.copy(F64);
    Tensor[] expected = new LoopScalarDecayScan(chunk).scan(loop.x(), loop.logDecay(), loop.b(), loop.c(),
        loop.initial());
    Tensor[] scanned = new ScalarDecayScan(chunk).scan(batched.x(), batched.logDecay(), batched.b(), batched.c(),
        batched.initial());
    Tensor[] weights = {Torch.randn(F64, Torch.shape(expected[0])), Torch.randn(F64, Torch.shape(expected[1]))};
    loss(expected, weights).backward();
    loss(scanned, weights).backward();
    assertThat(Torch.relativeError(scanned[0], expected[0])).as("outputs").isLessThan(1e-12);
    assertThat(Torch.relativeError(scanned[1], expected[1])).as("state after the last step").isLessThan(1e-12);
    assertGradientsMatch(batched, loop, 1e-12);
  }

  /**
   * Steep decays over many chunks in float32: the decay between far chunks underflows to zero instead of being
   * the exponent of a difference of two large sums; outputs and gradients stay finite and close to float64.
   */
  @Test
  void scan_steepDecaysInFloat32_staysFiniteAndCloseToFloat64() {
    Torch.seed(5);
    Inputs exact = Inputs.random(300, 2, 1, true, 40.0);
    Inputs single = exact.copy(torch.ScalarType.Float);
    Tensor[] expected = stepped(exact);
    Tensor[] scanned = new ScalarDecayScan(16).scan(single.x(), single.logDecay(), single.b(), single.c(),
        single.initial());
    Tensor[] weights = {Torch.randn(F64, Torch.shape(expected[0])), Torch.randn(F64, Torch.shape(expected[1]))};
    loss(expected, weights).backward();
    loss(scanned, weights).backward();
    assertThat(Torch.relativeError(scanned[0], expected[0])).as("outputs").isLessThan(1e-5);
    assertThat(Torch.relativeError(scanned[1], expected[1])).as("state after the last step").isLessThan(1e-5);
    for (Tensor t : single.all()) {
      assertThat(t.grad().isfinite().all().item_bool()).as("finite gradients").isTrue();
    }
    assertGradientsMatch(single, exact, 1e-4);
  }

  @Test
  void scan_groupsThatDoNotDivideTheHeads_isRefusedNamingBoth() {
    Inputs in = Inputs.random(5, 3, 2, false, 1.0);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ScalarDecayScan(4).scan(in.x(), in.logDecay(),
        in.b(), in.c())).hasMessage("B and C have 2 groups, which do not divide 3 heads");
  }

  private static Tensor loss(Tensor[] yAndState, Tensor[] weights) {
    return yAndState[0].to(F64).mul(weights[0]).sum().add(yAndState[1].to(F64).mul(weights[1]).sum());
  }

  private static void assertGradientsMatch(Inputs actual, Inputs expected, double tolerance) {
    String[] names = {"x", "log decay", "B", "C", "initial state"};
    List<Tensor> a = actual.all();
    List<Tensor> e = expected.all();
    for (int i = 0; i < a.size(); i++) {
      assertThat(a.get(i).grad().defined()).as("gradient of " + names[i]).isTrue();
      assertThat(Torch.relativeError(a.get(i).grad(), e.get(i).grad(), 1e-3)).as("gradient of " + names[i])
          .isLessThan(tolerance);
    }
  }

  /**
   * Per head {@code h = exp(a) h + x B^T}, {@code y = h C}, one position after the other, head {@code h} reading
   * group {@code h / (H / G)}: {y, the last h}.
   */
  private static Tensor[] stepped(Inputs in) {
    long batch = in.x().size(0);
    long heads = in.x().size(2);
    long perGroup = heads / in.b().size(2);
    Tensor b = in.b().repeat_interleave(perGroup, new LongOptional(2), new LongOptional());
    Tensor c = in.c().repeat_interleave(perGroup, new LongOptional(2), new LongOptional());
    Tensor h = in.initial() != null ? in.initial()
        : torch.zeros(new long[] {batch, heads, in.x().size(3), b.size(3)}, new TensorOptions(F64));
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < in.x().size(1); t++) {
      Tensor decay = in.logDecay().select(1, t).exp().unsqueeze(2).unsqueeze(3);
      h = decay.mul(h).add(in.x().select(1, t).unsqueeze(3).mul(b.select(1, t).unsqueeze(2)));
      ys.add(h.mul(c.select(1, t).unsqueeze(2)).sum(new long[] {3}, false, new ScalarTypeOptional()));
    }
    return new Tensor[] {torch.stack(new TensorVector(ys.toArray(new Tensor[0])), 1), h};
  }
}
