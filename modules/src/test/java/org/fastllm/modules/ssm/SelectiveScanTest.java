package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SelectiveScanTest {

  /** The recurrence one step at a time, in float64. */
  static Tensor stepped(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    long perGroup = u.size(2) / b.size(2);
    Tensor bc = b.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(2), new org.bytedeco.pytorch.LongOptional());
    Tensor cc = c.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(2), new org.bytedeco.pytorch.LongOptional());
    Tensor h = torch.zeros(new long[] {u.size(0), u.size(2), a.size(1)}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Double));
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < u.size(1); t++) {
      Tensor dt = delta.select(1, t).unsqueeze(2);
      h = dt.mul(a).exp().mul(h).add(dt.mul(u.select(1, t).unsqueeze(2)).mul(bc.select(1, t)));
      ys.add(h.mul(cc.select(1, t)).sum(new long[] {2}, false, new ScalarTypeOptional()));
    }
    return torch.stack(new TensorVector(ys.toArray(new Tensor[0])), 1);
  }

  @ParameterizedTest(name = "chunk {0}, t {1}, groups {2}, delta up to {3}")
  @CsvSource(textBlock = """
      8,  37, 1, 0.1
      8,  37, 2, 60
      4,  64, 4, 60
      32, 33, 1, 60
      1,  5,  2, 60
      """)
  void scan_float32UpToHugeDecays_finiteAndMatchesSteppedFloat64(int chunk, int time, int groups, double maxDelta) {
    Torch.seed(chunk * 1000L + time);
    long channels = 8;
    long state = 16;
    Tensor u = Torch.randn(torch.ScalarType.Double, 2, time, channels);
    // delta in (0, maxDelta]: with A down to -16 a step can decay by exp(-960), far past float32's range.
    Tensor delta = torch.rand(new long[] {2, time, channels}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Double))
        .mul(new Scalar(maxDelta)).add(new Scalar(1e-3));
    Tensor a = SsmInit.aLog(channels, state).to(torch.ScalarType.Double).exp().neg();
    Tensor b = Torch.randn(torch.ScalarType.Double, 2, time, groups, state);
    Tensor c = Torch.randn(torch.ScalarType.Double, 2, time, groups, state);
    Tensor expected = stepped(u, delta, a, b, c);
    Tensor actual = SelectiveScan.of(chunk, LayerContext.defaults()).scan(f(u), f(delta), f(a), f(b), f(c));
    assertThat(actual.isfinite().all().item_bool()).as("finite").isTrue();
    double error = Torch.relativeError(actual, expected);
    assertThat(error < 1e-5).as("relative error " + error).isTrue();
  }

  private static Tensor f(Tensor t) {
    return t.to(torch.ScalarType.Float);
  }
}
