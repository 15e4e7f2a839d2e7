package org.fastllm.modules.ssm;

import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.train.Autocast;

/**
 * KernelCheck's part for the scalar-decay scan (discrete_mamba2, mamba2_standard) on a device: the scan that
 * computes every chunk at once, in float32 and under bf16 autocast, against the chunk-by-chunk loop in float64 on
 * the same rounded inputs (outputs, final state, gradients of x, log decay, B, C and the initial state); then the
 * mixers' time next to attention's at b 4, T 2048, hidden 1024, forward and forward+backward, with the ratios.
 *
 * <pre class="text">{@code run-gpu.sh org.fastllm.modules.bench.KernelCheck   # calls check, then timing}</pre>
 */
public final class ScalarDecayCheck {
  private ScalarDecayCheck() {}

  /** A scan shape: heads of {@code size} in {@code groups}, the chunk, and whether it starts from a state. */
  private record Case(long batch, long time, long heads, long size, long groups, int chunk, boolean initial) {}

  /** Prints one line per case and type; true when every error is within 1e-4 (float32) or 2e-2 (bf16). */
  public static boolean check(Device device) {
    List<Case> cases = List.of(new Case(2, 300, 8, 32, 2, 64, true), new Case(2, 200, 4, 16, 4, 256, false),
        new Case(1, 1000, 32, 64, 32, 64, false), new Case(2, 513, 8, 64, 1, 256, true));
    boolean ok = true;
    for (Case c : cases) {
      for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float, torch.ScalarType.BFloat16}) {
        try (PointerScope scope = new PointerScope()) {
          ok &= check(device, c, type);
        }
      }
    }
    return ok;
  }

  private static boolean check(Device device, Case c, torch.ScalarType type) {
    TensorOptions f64 = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(device));
    long state = 16;
    Tensor[] base = {torch.randn(new long[] {c.batch(), c.time(), c.heads(), c.size()}, f64),
        torch.softplus(torch.randn(new long[] {c.batch(), c.time(), c.heads()}, f64)).neg(),
        torch.randn(new long[] {c.batch(), c.time(), c.groups(), state}, f64),
        torch.randn(new long[] {c.batch(), c.time(), c.groups(), state}, f64),
        torch.randn(new long[] {c.batch(), c.heads(), c.size(), state}, f64)};
    int inputs = c.initial() ? 5 : 4;
    Tensor[] rounded = new Tensor[inputs];
    Tensor[] exact = new Tensor[inputs];
    for (int i = 0; i < inputs; i++) {
      // bf16: the values autocast's products see; the scan itself gets them in float32, as a mixer hands them over
      Tensor r = base[i].to(type).to(torch.ScalarType.Float);
      rounded[i] = r.detach().clone().set_requires_grad(true);
      exact[i] = r.detach().to(torch.ScalarType.Double).set_requires_grad(true);
    }
    Tensor[] expected = new LoopScalarDecayScan(c.chunk()).scan(exact[0], exact[1], exact[2], exact[3],
        c.initial() ? exact[4] : null);
    Tensor[] weights = {torch.randn(expected[0].sizes().vec().get(), f64),
        torch.randn(expected[1].sizes().vec().get(), f64)};
    expected[0].mul(weights[0]).sum().add(expected[1].mul(weights[1]).sum()).backward();
    Tensor[] actual;
    try (Autocast autocast = Autocast.bf16(device, type == torch.ScalarType.BFloat16)) {
      actual = new ScalarDecayScan(c.chunk()).scan(rounded[0], rounded[1], rounded[2], rounded[3],
          c.initial() ? rounded[4] : null);
    }
    actual[0].to(torch.ScalarType.Double).mul(weights[0]).sum()
        .add(actual[1].to(torch.ScalarType.Double).mul(weights[1]).sum()).backward();
    double bound = type == torch.ScalarType.Float ? 1e-4 : 2e-2;
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
        "ssd scan     b=%d t=%d H=%d P=%d G=%d N=%d chunk=%d%s %s: y %.1e state %.1e", c.batch(), c.time(),
        c.heads(), c.size(), c.groups(), state, c.chunk(), c.initial() ? " from a state" : "",
        type == torch.ScalarType.Float ? "float32" : "bf16 autocast", error(actual[0], expected[0]),
        error(actual[1], expected[1])));
    double worst = Math.max(error(actual[0], expected[0]), error(actual[1], expected[1]));
    String[] names = {"x", "a", "B", "C", "h0"};
    for (int i = 0; i < inputs; i++) {
      double e = error(rounded[i].grad(), exact[i].grad());
      worst = Math.max(worst, e);
      line.append(String.format(Locale.ROOT, " d%s %.1e", names[i], e));
    }
    boolean ok = worst < bound;
    line.append(ok ? "  ok" : "  OVER " + bound);
    System.out.println(line);
    return ok;
  }

  /**
   * Median milliseconds, forward and forward+backward, at b 4, T 2048, hidden 1024 in float32 and in bf16 (the
   * layers in bf16, as LayerBench runs them): attention, discrete_mamba2 as LayerBench has it (8 v heads, 4 qk,
   * chunk 64) with the batched scan and with the chunk loop, discrete_mamba2 with 32 v and 32 qk heads (64 channels each at hidden 1024, chunk 256), and
   * mamba2_standard (heads of 64, one group, chunk 256); each with its ratio to attention.
   */
  public static void timing(Device device) {
    for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float, torch.ScalarType.BFloat16}) {
      try (PointerScope scope = new PointerScope()) {
        timing(device, type, 4, 2048, 1024, 10);
      }
    }
  }

  /** {@link #timing(Device)} at one type and shape, {@code iters} measured runs after 3. */
  static void timing(Device device, torch.ScalarType type, long batch, long time, int hidden, int iters) {
    ScalarDecayBench.Shape shape = new ScalarDecayBench.Shape(device, type, batch, time, hidden, iters, 3);
    String label = String.format(Locale.ROOT, "mixer timing b=%d t=%d H=%d %s:", batch, time, hidden,
        type == torch.ScalarType.Float ? "float32" : "bf16");
    ScalarDecayBench.Millis attention = timed(shape, ScalarDecayBench.attention(hidden), null);
    System.out.printf(Locale.ROOT, "%s %-46s forward %8.3f ms             forward+backward %8.3f ms%n", label,
        "attention", attention.forward(), attention.forwardBackward());
    ScalarDecayMixer layers = ScalarDecayBench.mixer(SsmVariant.DISCRETE_MAMBA2, hidden, 64, 4, 8, 1);
    LoopScalarDecayScan loop = new LoopScalarDecayScan(64);
    print(label, "discrete_mamba2 8 v heads, 4 qk, chunk 64", timed(shape, layers, null), attention);
    print(label, "discrete_mamba2 same, chunk loop (before)", timed(shape, layers,
        x -> layers.mix(x, Adapters.NONE, layers.conv()::forward, loop::scan)), attention);
    print(label, "discrete_mamba2 32 v heads, 32 qk, chunk 256", timed(shape,
        ScalarDecayBench.mixer(SsmVariant.DISCRETE_MAMBA2, hidden, 256, 32, 32, 1), null), attention);
    print(label, "mamba2_standard heads of 64, 1 group, chunk 256", timed(shape,
        ScalarDecayBench.mixer(SsmVariant.MAMBA2_STANDARD, hidden, 256, 0, 0, 1), null), attention);
  }

  private static ScalarDecayBench.Millis timed(ScalarDecayBench.Shape shape, SequenceLayer layer,
      UnaryOperator<Tensor> run) {
    layer.to(shape.device(), shape.type(), false);
    return shape.time(List.of(run != null ? run : layer::forward), null)[0];
  }

  private static void print(String label, String what, ScalarDecayBench.Millis m, ScalarDecayBench.Millis base) {
    System.out.printf(Locale.ROOT, "%s %-46s forward %8.3f ms (x%5.2f)  forward+backward %8.3f ms (x%5.2f attention)%n",
        label, what, m.forward(), m.forward() / base.forward(), m.forwardBackward(),
        m.forwardBackward() / base.forwardBackward());
  }

  /** max|a - e| / max(max|e|, 0.1), in float64. */
  private static double error(Tensor actual, Tensor expected) {
    Tensor a = actual.to(torch.ScalarType.Double);
    Tensor e = expected.to(torch.ScalarType.Double);
    return a.sub(e).abs().max().item_double() / Math.max(e.abs().max().item_double(), 0.1);
  }
}
