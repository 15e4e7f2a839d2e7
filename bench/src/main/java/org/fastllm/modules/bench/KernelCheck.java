package org.fastllm.modules.bench;

import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.cuda.CUDAStream;
import org.bytedeco.pytorch.global.torch_cuda;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.ScanSegments;
import org.fastllm.modules.attention.Rotary;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.loss.CrossEntropy;
import org.fastllm.modules.norm.Normalization;
import org.fastllm.modules.ssm.ScalarDecayCheck;
import org.fastllm.modules.ssm.SelectiveScan;
import org.fastllm.modules.train.Autocast;

/**
 * Device check, not a unit test (it needs a GPU): the kernels compiled at run time against the tensor operations
 * they replace, in float64 on the same device. The selective scan: values and the gradients of all five inputs,
 * over shapes like Mamba 1's (one group) and Mamba 2's (a group per head), lengths that end inside a chunk, and
 * bf16 inputs as autocast gives them; backwards in several segments as the kernels choose them, and in as many as
 * {@code training.kernels.scan_segments} asks for (a last segment shorter than the others, one chunk a segment).
 * Rotary: values and input gradients for contiguous and transposed inputs in float32 and bf16, and on a side stream
 * made PyTorch's current one (the launches must follow it). Cross-entropy: loss and logits gradient in float32 and bf16 at two vocabulary sizes. Layer and
 * RMS norm under bf16 autocast: the bf16 output and the float32 gradients of input, weight and bias at three sizes.
 * The optimizer's bf16-copy update against tensor operations, and a linear layer reading its copy. The chunked
 * scalar-decay scan of discrete_mamba2 and mamba2_standard (tensor operations, every chunk at once) in float32 and
 * under bf16 autocast against the chunk-by-chunk loop in float64 ({@link ScalarDecayCheck}). Each kernel runs
 * with its {@code training.kernels} choice auto; a case whose kernel did not run says why and fails.
 * Prints one line per case, exits 1 if any relative error passes its bound (1e-4 float32 scan and norm gradients,
 * 1e-5 float32 rotary and cross-entropy, 2e-2 bf16), then times the scan (with the backward's segments as chosen
 * and in one), the loss and the norm alone, and the scalar-decay mixers next to attention (b 4, T 2048, hidden 1024).
 *
 * <pre class="text">{@code run-gpu.sh org.fastllm.modules.bench.KernelCheck}</pre>
 *
 * <p>Longer than other classes on purpose: one runner holds every GPU case, so that one call on the GPU host
 * checks them all and ends with one verdict; each case is a method of its own.
 */
public final class KernelCheck {
  private KernelCheck() {}

  /** A scan shape; {@code segments} is {@code scan_segments}, 0 for the kernels' own choice (auto). */
  record Case(String name, long batch, long time, long channels, long groups, long state, torch.ScalarType type,
      int segments) {
    Case(String name, long batch, long time, long channels, long groups, long state, torch.ScalarType type) {
      this(name, batch, time, channels, groups, state, type, 0);
    }
  }

  public static void main(String[] args) {
    Device device = new Device("cuda:0");
    List<Case> cases = List.of(
        new Case("mamba1-like", 2, 300, 64, 1, 16, torch.ScalarType.Float),
        new Case("mamba2-like", 2, 257, 64, 4, 16, torch.ScalarType.Float),
        new Case("state 8", 1, 100, 32, 4, 8, torch.ScalarType.Float),
        new Case("state 32", 1, 65, 16, 2, 32, torch.ScalarType.Float),
        new Case("one step", 3, 1, 32, 2, 16, torch.ScalarType.Float),
        new Case("mamba2 bf16", 2, 513, 128, 8, 16, torch.ScalarType.BFloat16),
        new Case("long", 1, 2000, 64, 4, 16, torch.ScalarType.Float),             // 63 chunks: 13 segments
        new Case("long, 1 seg", 1, 2000, 64, 4, 16, torch.ScalarType.Float, 1),
        new Case("7 segments", 1, 300, 16, 2, 32, torch.ScalarType.Float, 7),      // 19 chunks: 6 x 3 and 1
        new Case("chunk a seg", 2, 100, 32, 4, 8, torch.ScalarType.Float, 4));
    boolean ok = true;
    torch.manual_seed(5);
    System.out.println("kernels launch on " + RuntimeKernels.launchStream());
    ok &= RuntimeKernels.launchStream().equals("PyTorch's current stream");
    for (Case c : cases) {
      try (PointerScope scope = new PointerScope()) {
        ok &= check(c, device);
      }
    }
    for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float, torch.ScalarType.BFloat16}) {
      for (boolean transposed : new boolean[] {false, true}) {
        try (PointerScope scope = new PointerScope()) {
          ok &= rotary(device, type, transposed);
        }
      }
    }
    try (PointerScope scope = new PointerScope()) {
      ok &= rotaryOnASideStream(device);
    }
    for (torch.ScalarType type : new torch.ScalarType[] {torch.ScalarType.Float, torch.ScalarType.BFloat16}) {
      for (long vocab : new long[] {1000, 50304}) {
        try (PointerScope scope = new PointerScope()) {
          ok &= crossEntropy(device, type, vocab);
        }
      }
    }
    for (boolean rms : new boolean[] {false, true}) {
      for (long size : new long[] {768, 1000, 2048}) {
        try (PointerScope scope = new PointerScope()) {
          ok &= norm(device, rms, size);
        }
      }
    }
    try (PointerScope scope = new PointerScope()) {
      ok &= org.fastllm.modules.optim.CopyAdamWCheck.run(device);
    }
    try (PointerScope scope = new PointerScope()) {
      ok &= ScalarDecayCheck.check(device);
    }
    try (PointerScope scope = new PointerScope()) {
      ok &= gate(device);
    }
    // a kernel that did not compile leaves its tensor-operation path running, which passes the comparisons above
    for (String kernel : List.of("ssm/selective_scan.cu", "ssm/gate.cu", "attention/rotary.cu",
        "loss/cross_entropy.cu", "norm/norm.cu", "optim/adamw.cu")) {
      boolean used = RuntimeKernels.compiled().stream().anyMatch(k -> k.contains(kernel));
      System.out.printf(Locale.ROOT, "%-22s %s%n", kernel, used ? "compiled and used" : "NOT COMPILED");
      ok &= used;
    }
    RuntimeKernels.failures().forEach((kernel, why) -> System.out.println("failed: " + kernel + ": " + why));
    ok &= RuntimeKernels.failures().isEmpty();
    System.out.println(ok ? "kernel check: all cases within bounds" : "kernel check: FAILED");
    try (PointerScope scope = new PointerScope()) {
      timing(device);
    }
    try (PointerScope scope = new PointerScope()) {
      crossEntropyTiming(device);
    }
    try (PointerScope scope = new PointerScope()) {
      normTiming(device);
    }
    ScalarDecayCheck.timing(device);
    System.exit(ok ? 0 : 1);
  }

  private static boolean check(Case c, Device device) {
    TensorOptions f64 = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(device));
    Tensor[] base = {
        torch.randn(new long[] {c.batch(), c.time(), c.channels()}, f64),
        torch.rand(new long[] {c.batch(), c.time(), c.channels()}, f64).mul(new Scalar(2.0)).add(new Scalar(1e-3)),
        torch.rand(new long[] {c.channels(), c.state()}, f64).mul(new Scalar(8.0)).add(new Scalar(0.5)).neg(),
        torch.randn(new long[] {c.batch(), c.time(), c.groups(), c.state()}, f64),
        torch.randn(new long[] {c.batch(), c.time(), c.groups(), c.state()}, f64)};
    Tensor weights = torch.randn(new long[] {c.batch(), c.time(), c.channels()}, f64);
    Tensor[] exact = leaves(base, torch.ScalarType.Double);
    Tensor expected = SelectiveScan.tensorOperations(8).scan(exact[0], exact[1], exact[2], exact[3], exact[4]);
    expected.mul(weights).sum().backward();
    // the kernel's inputs rounded as autocast would give them; the reference sees the same rounded values
    Tensor[] rounded = leaves(base, c.type());
    Tensor[] roundedExact = new Tensor[5];
    for (int i = 0; i < 5; i++) {
      roundedExact[i] = rounded[i].detach().to(torch.ScalarType.Double).set_requires_grad(true);
    }
    Tensor reference = SelectiveScan.tensorOperations(8).scan(roundedExact[0], roundedExact[1], roundedExact[2],
        roundedExact[3], roundedExact[4]);
    reference.mul(weights).sum().backward();
    LayerContext kernels = kernels(c.segments());
    Tensor actual = SelectiveScan.of(8, kernels).scan(rounded[0], rounded[1], rounded[2], rounded[3], rounded[4]);
    actual.mul(weights.to(actual.scalar_type())).sum().backward();
    double bound = c.type() == torch.ScalarType.Float ? 1e-4 : 2e-2;
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-12s b=%d t=%d D=%d G=%d N=%d %s%s:",
        c.name(), c.batch(), c.time(), c.channels(), c.groups(), c.state(), c.type(),
        c.segments() > 0 ? " segments=" + c.segments() : ""));
    double worst = error(actual, reference);
    line.append(String.format(Locale.ROOT, " y %.1e", worst));
    String[] names = {"u", "delta", "A", "B", "C"};
    for (int i = 0; i < 5; i++) {
      double e = error(rounded[i].grad(), roundedExact[i].grad());
      worst = Math.max(worst, e);
      line.append(String.format(Locale.ROOT, " d%s %.1e", names[i], e));
    }
    String ran = ran(kernels, KernelKey.SCAN);
    line.append(ran != null ? "  " + ran : worst < bound ? "  ok" : "  OVER " + bound);
    System.out.println(line);
    return ran == null && worst < bound;
  }

  /**
   * Median milliseconds of the scan alone, kernels against tensor operations, at the Mamba 2 mixer's shape in
   * bench/gpu/layers.sh (H 1024: 2048 channels, 128 heads of 16 states, batch 4, 2048 steps), float32 inputs; then
   * the kernels' forward+backward with the backward in one segment ({@code scan_segments: 1}), and both again
   * at batch 1, where the kernels' choice splits the backward.
   */
  private static void timing(Device device) {
    for (long batch : new long[] {4, 1}) {
      try (PointerScope scope = new PointerScope()) {
        timing(device, batch);
      }
    }
  }

  private static void timing(Device device, long batch) {
    TensorOptions f32 = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(device));
    long time = 2048;
    long channels = 2048;
    long groups = 128;
    Tensor[] in = {
        torch.randn(new long[] {batch, time, channels}, f32),
        torch.rand(new long[] {batch, time, channels}, f32).mul(new Scalar(0.1)),
        torch.rand(new long[] {channels, 16}, f32).neg(),
        torch.randn(new long[] {batch, time, groups, 16}, f32),
        torch.randn(new long[] {batch, time, groups, 16}, f32)};
    List<String> variants = batch == 4 ? List.of("kernels", "tensor operations", "kernels, 1 segment")
        : List.of("kernels", "kernels, 1 segment");
    for (String what : variants) {
      boolean fused = !what.equals("tensor operations");
      boolean oneSegment = what.equals("kernels, 1 segment");
      for (boolean backward : oneSegment ? new boolean[] {true} : new boolean[] {false, true}) {
        SelectiveScan scan = fused ? SelectiveScan.of(8, kernels(oneSegment ? 1 : 0))
            : SelectiveScan.tensorOperations(8);
        double[] runs = new double[10];
        for (int i = -3; i < runs.length; i++) {
          try (PointerScope step = new PointerScope()) {
            Tensor[] leaves = leaves(in, torch.ScalarType.Float);
            leaves[0].sum().item_double();
            long start = System.nanoTime();
            Tensor y = scan.scan(leaves[0], leaves[1], leaves[2], leaves[3], leaves[4]);
            if (backward) {
              y.sum().backward();
              leaves[1].grad().select(0, 0).select(0, 0).select(0, 0).item_double();
            } else {
              y.select(0, 0).select(0, 0).select(0, 0).item_double();
            }
            if (i >= 0) {
              runs[i] = (System.nanoTime() - start) / 1e6;
            }
          }
        }
        java.util.Arrays.sort(runs);
        System.out.printf(Locale.ROOT, "scan timing b=%d t=%d D=%d G=%d N=16: %-18s %-16s %8.3f ms%n", batch, time,
            channels, groups, what, backward ? "forward+backward" : "forward", runs[runs.length / 2]);
      }
    }
  }

  /**
   * The Mamba mixers' D skip and silu(z) gate kernels ({@code SelectiveScan.gate} under bf16 autocast's types: y
   * float32, u and z bfloat16, z a slice of wider rows) against {@code (y + D u) silu(z)} and its gradients by
   * autograd in float64 from the same rounded inputs.
   */
  private static boolean gate(Device device) {
    TensorOptions f32 = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(device));
    long[] shape = {4, 300, 96};
    Tensor y = torch.randn(shape, f32).set_requires_grad(true);
    Tensor u = torch.randn(shape, f32).to(torch.ScalarType.BFloat16).detach().set_requires_grad(true);
    Tensor wide = torch.randn(new long[] {4, 300, 250}, f32).mul(new Scalar(2.0)).to(torch.ScalarType.BFloat16)
        .detach().set_requires_grad(true);
    Tensor skip = torch.randn(new long[] {96}, f32).set_requires_grad(true);
    Tensor upstream = torch.randn(shape, f32).to(torch.ScalarType.BFloat16);
    Tensor[] exact = {y, u, wide, skip};
    for (int i = 0; i < exact.length; i++) {
      exact[i] = exact[i].detach().to(torch.ScalarType.Double).set_requires_grad(true);
    }
    Tensor expected = exact[0].add(exact[1].mul(exact[3])).mul(torch.silu(exact[2].narrow(2, 50, 96)));
    expected.mul(upstream.to(torch.ScalarType.Double)).sum().backward();
    Tensor gated = SelectiveScan.of(8, kernels(0)).gate(y, u, skip, wide.narrow(2, 50, 96));
    gated.mul(upstream).sum().backward();
    double bound = 2e-2;
    double ey = error(gated, expected);
    double edy = error(y.grad(), exact[0].grad());
    double edu = error(u.grad(), exact[1].grad());
    double edz = error(wide.grad(), exact[2].grad());
    double edD = error(skip.grad(), exact[3].grad());
    boolean fused = gated.scalar_type().intern() == torch.ScalarType.BFloat16;
    boolean ok = fused && Math.max(Math.max(ey, edy), Math.max(Math.max(edu, edz), edD)) < bound;
    System.out.printf(Locale.ROOT, "skip gate    b=4 t=300 D=96 z a slice of 250: out %.1e dy %.1e du %.1e dz %.1e dD "
        + "%.1e  %s%n", ey, edy, edu, edz, edD, ok ? "ok" : fused ? "OVER " + bound : "NOT FUSED (float32 output)");
    return ok;
  }

  /** The rotary kernel against the rotation in tensor operations on float64 copies of the same rounded inputs. */
  private static boolean rotary(Device device, torch.ScalarType type, boolean transposed) {
    TensorOptions f64 = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(device));
    // [b, t, heads, size] seen as [b, heads, t, size] is how attention hands queries over
    Tensor base = transposed ? torch.randn(new long[] {2, 300, 6, 64}, f64).transpose(1, 2)
        : torch.randn(new long[] {2, 6, 300, 64}, f64);
    Tensor weights = torch.randn(new long[] {2, 6, 300, 64}, f64);
    Tensor x = base.to(type).detach().set_requires_grad(true);
    Tensor exact = x.detach().to(torch.ScalarType.Double).set_requires_grad(true);
    LayerContext kernels = kernels(0);
    Tensor expected = new Rotary(10000.0, LayerContext.tensorOperations()).apply(exact);
    expected.mul(weights).sum().backward();
    Tensor actual = new Rotary(10000.0, kernels).apply(x);
    actual.mul(weights.to(type)).sum().backward();
    double bound = type == torch.ScalarType.Float ? 1e-5 : 2e-2;
    double ey = error(actual, expected);
    double ex = error(x.grad(), exact.grad());
    String ran = ran(kernels, KernelKey.ROTARY);
    boolean ok = ran == null && Math.max(ey, ex) < bound && actual.scalar_type().intern() == type;
    System.out.printf(Locale.ROOT, "rotary       b=2 h=6 t=300 size=64 %s%s: y %.1e dx %.1e  %s%n", type,
        transposed ? " transposed" : "", ey, ex, ok ? "ok" : ran != null ? ran : "OVER " + bound);
    return ok;
  }

  /**
   * The rotary kernel with a side stream from PyTorch's pool made the current one: its input is made on that
   * stream just before the launch, so a launch on another stream (the legacy default one, which a pool stream does
   * not wait for) could read it unfinished. Against the tensor operations on the same stream, then on the default.
   */
  private static boolean rotaryOnASideStream(Device device) {
    TensorOptions f32 = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(device));
    LayerContext kernels = kernels(0);
    Rotary rotary = new Rotary(10000.0, kernels);
    Tensor actual;
    Tensor expected;
    try (CUDAStream side = torch_cuda.getStreamFromPool()) {
      torch_cuda.setCurrentCUDAStream(side);
      try {
        Tensor x = torch.randn(new long[] {8, 16, 2048, 128}, f32).mul(new Scalar(3.0));
        actual = rotary.apply(x);
        expected = new Rotary(10000.0, LayerContext.tensorOperations()).apply(x);
        side.synchronize();
      } finally {
        torch_cuda.setCurrentCUDAStream(torch_cuda.getDefaultCUDAStream());
      }
    }
    double ey = error(actual, expected);
    String ran = ran(kernels, KernelKey.ROTARY);
    boolean ok = ran == null && ey < 1e-5;
    System.out.printf(Locale.ROOT, "rotary       on a side stream b=8 h=16 t=2048 size=128: y %.1e  %s%n", ey,
        ok ? "ok" : ran != null ? ran : "OVER 1e-5");
    return ok;
  }

  /**
   * The cross-entropy kernels against libtorch's cross_entropy on float64 copies of the same rounded logits: loss
   * and logits gradient (incoming gradient 1.7), some rows left out (target -100).
   */
  private static boolean crossEntropy(Device device, torch.ScalarType type, long vocab) {
    TensorOptions f64 = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(device));
    long rows = 300;
    Tensor x = torch.randn(new long[] {rows, vocab}, f64).mul(new Scalar(4.0)).to(type).detach()
        .set_requires_grad(true);
    Tensor ids = torch.randint(vocab, new long[] {rows}, new TensorOptions(torch.ScalarType.Long)
        .device(new DeviceOptional(device)));
    ids.narrow(0, 10, 5).fill_(new Scalar(CrossEntropy.IGNORED));
    Tensor exact = x.detach().to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor expected = torch.cross_entropy_loss(exact, ids);
    expected.mul(new Scalar(1.7)).backward();
    LayerContext kernels = kernels(0);
    Tensor actual = new CrossEntropy(kernels).mean(x, ids);
    actual.mul(new Scalar(1.7)).backward();
    double bound = type == torch.ScalarType.Float ? 1e-5 : 2e-2;
    double el = Math.abs(actual.item_double() - expected.item_double()) / Math.abs(expected.item_double());
    double ex = error(x.grad(), exact.grad());
    String ran = ran(kernels, KernelKey.LOSS);
    boolean ok = ran == null && Math.max(el, ex) < bound && x.grad().scalar_type().intern() == type;
    System.out.printf(Locale.ROOT, "cross-entropy rows=%d vocab=%d %s: loss %.1e dx %.1e  %s%n", rows, vocab, type,
        el, ex, ok ? "ok" : ran != null ? ran : "OVER " + bound);
    return ok;
  }

  /**
   * The norm kernels (through {@link Normalization} under bf16 autocast) against libtorch's norm on float64 copies
   * of the same float32 inputs, with an incoming gradient bf16 holds exactly.
   */
  private static boolean norm(Device device, boolean rms, long size) {
    TensorOptions f64 = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(device));
    LayerContext kernels = kernels(0);
    Normalization norm = Normalization.of(new NormalizationConfig(rms ? NormType.RMS_NORM : NormType.LAYER_NORM,
        1e-5), size, kernels);
    norm.to(device, false);
    List<Tensor> params = List.of(norm.parameters().get());   // weight, then bias for layer_norm
    try (org.bytedeco.pytorch.NoGradGuard noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
      for (Tensor p : params) {
        p.copy_(torch.randn(p.sizes().vec().get(), f64).add(new Scalar(1.0)));
      }
    }
    Tensor x = torch.randn(new long[] {3, 100, size}, f64).mul(new Scalar(3.0)).add(new Scalar(0.5))
        .to(torch.ScalarType.Float).detach().set_requires_grad(true);
    Tensor upstream = torch.randn(new long[] {3, 100, size}, f64).to(torch.ScalarType.BFloat16);
    Tensor exact = x.detach().to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor[] exactParams = params.stream().map(p -> p.detach().to(torch.ScalarType.Double).set_requires_grad(true))
        .toArray(Tensor[]::new);
    long[] shape = {size};
    Tensor expected = rms
        ? torch.rms_norm(exact, shape, new org.bytedeco.pytorch.TensorOptional(exactParams[0]),
            new org.bytedeco.pytorch.DoubleOptional(1e-5))
        : torch.layer_norm(exact, shape, new org.bytedeco.pytorch.TensorOptional(exactParams[0]),
            new org.bytedeco.pytorch.TensorOptional(exactParams[1]), 1e-5, false);
    expected.mul(upstream.to(torch.ScalarType.Double)).sum().backward();
    Tensor actual;
    try (Autocast autocast = Autocast.bf16(x.device(), true)) {
      actual = norm.forward(x);
    }
    actual.mul(upstream).sum().backward();
    double ey = error(actual, expected);
    double ex = error(x.grad(), exact.grad());
    double ep = 0;
    for (int i = 0; i < params.size(); i++) {
      ep = Math.max(ep, error(params.get(i).grad(), exactParams[i].grad()));
    }
    String ran = ran(kernels, KernelKey.NORM);
    boolean ok = ran == null && actual.scalar_type().intern() == torch.ScalarType.BFloat16 && ey < 2e-2
        && Math.max(ex, ep) < 1e-4;
    System.out.printf(Locale.ROOT, "%-12s rows=300 size=%d: y %.1e dx %.1e dweight/dbias %.1e  %s%n",
        rms ? "rms_norm" : "layer_norm", size, ey, ex, ep, ok ? "ok" : ran != null ? ran : "OVER");
    return ok;
  }

  /**
   * Median milliseconds of layer_norm forward+backward at the 1B case's shape (8192 rows of 2048) under bf16
   * autocast, its output read by two products (attention's query and key-value): the kernels, and libtorch's
   * float32 norm with autocast's two casts.
   */
  private static void normTiming(Device device) {
    Tensor base = torch.randn(new long[] {4, 2048, 2048}, new TensorOptions(torch.ScalarType.Float)
        .device(new DeviceOptional(device)));
    Tensor upstream = torch.randn(new long[] {4, 2048, 2048}, new TensorOptions(torch.ScalarType.BFloat16)
        .device(new DeviceOptional(device)));
    for (boolean fused : new boolean[] {true, false}) {
      Normalization norm = Normalization.of(new NormalizationConfig(NormType.LAYER_NORM, 1e-5), 2048,
          fused ? kernels(0) : LayerContext.tensorOperations());
      norm.to(device, false);
      double millis = medianMillis(base, x -> {
        try (Autocast autocast = Autocast.bf16(x.device(), true)) {
          Tensor y = norm.forward(x);
          Tensor first = y.to(torch.ScalarType.BFloat16);
          Tensor second = y.to(torch.ScalarType.BFloat16);
          return first.mul(upstream).sum().add(second.mul(upstream).sum());
        }
      });
      System.out.printf(Locale.ROOT, "layer_norm timing rows=8192 size=2048, read twice: %-17s forward+backward %8.3f ms%n",
          fused ? "kernels" : "libtorch + casts", millis);
    }
  }

  /** Median milliseconds of loss forward+backward at the training cases' shape: 8192 rows of 50304 bf16 logits. */
  private static void crossEntropyTiming(Device device) {
    TensorOptions bf16 = new TensorOptions(torch.ScalarType.BFloat16).device(new DeviceOptional(device));
    Tensor base = torch.randn(new long[] {8192, 50304}, bf16);
    Tensor ids = torch.randint(50304, new long[] {8192}, new TensorOptions(torch.ScalarType.Long)
        .device(new DeviceOptional(device)));
    CrossEntropy kernels = new CrossEntropy(kernels(0));
    for (boolean fused : new boolean[] {true, false}) {
      // libtorch's way is what autocast does: a float32 copy, then log-softmax and its backward in float32
      double millis = medianMillis(base,
          x -> fused ? kernels.mean(x, ids) : torch.cross_entropy_loss(x.to(torch.ScalarType.Float), ids));
      System.out.printf(Locale.ROOT, "cross-entropy timing rows=8192 vocab=50304 bf16: %-17s forward+backward %8.3f ms%n",
          fused ? "kernels" : "tensor operations", millis);
    }
  }

  /**
   * Median milliseconds over 10 runs, after 3 unmeasured, of {@code loss} of a fresh leaf of {@code base} and its
   * backward, the device waited for before and after (one value of the input read, then one of its gradient).
   */
  private static double medianMillis(Tensor base, java.util.function.Function<Tensor, Tensor> loss) {
    double[] runs = new double[10];
    for (int i = -3; i < runs.length; i++) {
      try (PointerScope step = new PointerScope()) {
        Tensor x = base.detach().set_requires_grad(true);
        x.flatten().select(0, 0).item_double();
        long start = System.nanoTime();
        loss.apply(x).backward();
        x.grad().flatten().select(0, 0).item_double();
        if (i >= 0) {
          runs[i] = (System.nanoTime() - start) / 1e6;
        }
      }
    }
    java.util.Arrays.sort(runs);
    return runs[runs.length / 2];
  }

  /**
   * A model's context with every layer kernel on auto (the norm's default is off), the scan's backward in
   * {@code segments} segments (0: auto).
   */
  private static LayerContext kernels(int segments) {
    return LayerContext.of(new KernelsConfig(KernelChoice.AUTO, KernelChoice.AUTO, KernelChoice.AUTO,
        KernelChoice.AUTO, KernelChoice.AUTO, KernelChoice.AUTO,
        segments > 0 ? new ScanSegments(segments) : ScanSegments.AUTO));
  }

  /** Null when {@code key}'s kernel ran (and only it) in {@code context}, otherwise what ran instead. */
  private static String ran(LayerContext context, KernelKey key) {
    String ran = context.report().snapshot().get(key.key());
    return KernelReport.KERNEL.equals(ran) ? null : "NOT FUSED: " + ran;
  }

  private static Tensor[] leaves(Tensor[] base, torch.ScalarType type) {
    Tensor[] out = new Tensor[base.length];
    for (int i = 0; i < base.length; i++) {
      out[i] = base[i].to(type).detach().clone().set_requires_grad(true);
    }
    return out;
  }

  /** max|a - e| / max(max|e|, 0.1), in float64. */
  private static double error(Tensor actual, Tensor expected) {
    Tensor a = actual.to(torch.ScalarType.Double);
    Tensor e = expected.to(torch.ScalarType.Double);
    return a.sub(e).abs().max().item_double() / Math.max(e.abs().max().item_double(), 0.1);
  }
}
