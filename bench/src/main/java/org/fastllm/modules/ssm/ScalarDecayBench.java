package org.fastllm.modules.ssm;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.attention.Attention;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * Benchmark, not a test: the scalar-decay mixers (discrete_mamba2, mamba2_standard) with the scan computing every
 * chunk at once against the same mixer with the chunk-by-chunk loop it replaced ({@link LoopScalarDecayScan}, B and
 * C repeated per head), in one process: median forward and forward+backward milliseconds, the ratio loop / batched,
 * each mixer's ratio to attention of the same width, and the largest relative difference of the two outputs.
 *
 * <pre class="text">{@code
 * bench/scalar-decay-cpu.sh                     # hidden 256, batch 2, 1024 steps, chunks 64 and 256, fp32, CPU
 * java ... ScalarDecayBench --device cuda --dtype bf16 --hidden 1024 --batch 4 --seq 2048 --chunks 64,256
 * }</pre>
 *
 * <p>discrete_mamba2 as in LayerBench (state 16, 4 qk heads, 8 v heads), mamba2_standard with heads of 64 channels
 * in one group; both with the chunk given. Timing ends by reading one value back to the host, which waits for the
 * device on CUDA.
 */
public final class ScalarDecayBench {
  private ScalarDecayBench() {}

  /** The command line, with the CPU defaults. */
  record Options(String device, String dtype, int hidden, int batch, int seq, List<Integer> chunks, int iters,
      int warmup, int threads) {

    static Options parse(String[] args) {
      Map<String, String> given = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        if (!args[i].startsWith("--") || i + 1 == args.length) {
          throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'; names: --device"
              + " cpu|cuda, --dtype fp32|bf16, --hidden, --batch, --seq, --chunks 64,256, --iters, --warmup,"
              + " --threads");
        }
        given.put(args[i].substring(2), args[++i]);
      }
      Options o = new Options(given.getOrDefault("device", "cpu"), given.getOrDefault("dtype", "fp32"),
          Integer.parseInt(given.getOrDefault("hidden", "256")), Integer.parseInt(given.getOrDefault("batch", "2")),
          Integer.parseInt(given.getOrDefault("seq", "1024")),
          Arrays.stream(given.getOrDefault("chunks", "64,256").split(",")).map(String::trim).map(Integer::valueOf)
              .toList(),
          Integer.parseInt(given.getOrDefault("iters", "5")), Integer.parseInt(given.getOrDefault("warmup", "2")),
          Integer.parseInt(given.getOrDefault("threads", "1")));
      if (!List.of("fp32", "bf16").contains(o.dtype)) {
        throw new IllegalArgumentException("--dtype: '" + o.dtype + "' is not fp32 or bf16");
      }
      return o;
    }

    torch.ScalarType scalarType() {
      return dtype.equals("bf16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
    }
  }

  /** Median milliseconds of one layer's forward alone and of forward+backward. */
  record Millis(double forward, double forwardBackward) {}

  /** A scan over {@code x, log decay, B, C} as the mixers call it. */
  interface ScanCall {
    Tensor scan(Tensor x, Tensor logDecay, Tensor b, Tensor c);
  }

  public static void main(String[] args) {
    Options o = Options.parse(args);
    torch.set_num_threads(o.threads());
    torch.manual_seed(1);
    Device device = new Device(o.device());
    Shape shape = new Shape(device, o.scalarType(), o.batch(), o.seq(), o.hidden(), o.iters(), o.warmup());
    SequenceLayer attention = attention(o.hidden());
    attention.to(device, o.scalarType(), false);
    Millis attentionMillis = shape.time(List.of(attention::forward), null)[0];
    System.out.printf(Locale.ROOT, "# %s %s H=%d b=%d t=%d: attention forward %.2f ms, forward+backward %.2f ms%n",
        o.device(), o.dtype(), o.hidden(), o.batch(), o.seq(), attentionMillis.forward(), attentionMillis.forwardBackward());
    for (int chunk : o.chunks()) {
      for (SsmVariant variant : List.of(SsmVariant.DISCRETE_MAMBA2, SsmVariant.MAMBA2_STANDARD)) {
        try (PointerScope scope = new PointerScope()) {
          ScalarDecayMixer mixer = mixer(variant, o.hidden(), chunk);
          LoopScalarDecayScan loop = new LoopScalarDecayScan(chunk);
          UnaryOperator<Tensor> looped = x -> mixer.mix(x, Adapters.NONE, mixer.conv()::forward, loop::scan);
          printScanAlone(shape, variant, o, chunk);
          double difference = shape.difference(mixer, looped);
          Millis[] both = shape.time(List.of(looped, mixer::forward), null);
          Millis old = both[0];
          Millis batched = both[1];
          System.out.printf(Locale.ROOT, "{\"kind\": \"%s\", \"device\": \"%s\", \"dtype\": \"%s\", \"hidden\": %d,"
              + " \"batch\": %d, \"seq\": %d, \"chunk\": %d, \"loop_forward_ms\": %.3f, \"batched_forward_ms\": %.3f,"
              + " \"loop_forward_backward_ms\": %.3f, \"batched_forward_backward_ms\": %.3f,"
              + " \"attention_forward_ms\": %.3f, \"attention_forward_backward_ms\": %.3f,"
              + " \"max_relative_difference\": %.1e}%n", variant.name().toLowerCase(Locale.ROOT), o.device(),
              o.dtype(), o.hidden(), o.batch(), o.seq(), chunk, old.forward(), batched.forward(),
              old.forwardBackward(), batched.forwardBackward(), attentionMillis.forward(), attentionMillis.forwardBackward(),
              difference);
          System.out.printf(Locale.ROOT, "# %-15s chunk %-4d forward: loop %8.2f ms, batched %8.2f ms (loop/batched"
              + " x%.2f; batched/attention x%.2f)  forward+backward: loop %8.2f ms, batched %8.2f ms (x%.2f;"
              + " x%.2f)  outputs differ by %.1e%n", variant.name().toLowerCase(Locale.ROOT), chunk, old.forward(),
              batched.forward(), old.forward() / batched.forward(), batched.forward() / attentionMillis.forward(),
              old.forwardBackward(), batched.forwardBackward(), old.forwardBackward() / batched.forwardBackward(),
              batched.forwardBackward() / attentionMillis.forwardBackward(), difference);
        }
      }
    }
  }

  /** The scan alone at the mixer's shape (the heads and groups of {@link #mixer}), loop against batched. */
  private static void printScanAlone(Shape shape, SsmVariant variant, Options o, int chunk) {
    boolean discrete = variant == SsmVariant.DISCRETE_MAMBA2;
    long inner = 2L * o.hidden();
    long heads = discrete ? 8 : inner / 64;
    long groups = discrete ? 4 : 1;
    Millis[] both = shape.timeScans(List.of(new LoopScalarDecayScan(chunk)::scan, new ScalarDecayScan(chunk)::scan),
        heads, inner / heads, groups, 16);
    Millis old = both[0];
    Millis batched = both[1];
    System.out.printf(Locale.ROOT, "# %-15s chunk %-4d scan alone (H=%d P=%d G=%d N=16)  forward: loop %8.2f ms,"
        + " batched %8.2f ms (x%.2f)  forward+backward: loop %8.2f ms, batched %8.2f ms (x%.2f)%n",
        variant.name().toLowerCase(Locale.ROOT), chunk, heads, inner / heads, groups, old.forward(),
        batched.forward(), old.forward() / batched.forward(), old.forwardBackward(), batched.forwardBackward(),
        old.forwardBackward() / batched.forwardBackward());
  }

  /**
   * The discrete_mamba2 mixer as LayerBench has it (4 qk heads, 8 v heads), or mamba2_standard with heads of 64
   * channels in {@code groups} groups; state 16, the given chunk.
   */
  static ScalarDecayMixer mixer(SsmVariant variant, int hidden, int chunk) {
    return mixer(variant, hidden, chunk, 4, 8, 1);
  }

  /** A scalar-decay mixer: discrete_mamba2 with {@code qk} and {@code v} heads, or mamba2_standard in groups. */
  static ScalarDecayMixer mixer(SsmVariant variant, int hidden, int chunk, int qk, int v, int groups) {
    ModelDefaults defaults = new ModelDefaults(hidden, NormalizationConfig.DEFAULT);
    return variant == SsmVariant.DISCRETE_MAMBA2
        ? DiscreteMamba2Mixer.of(new SsmBlockConfig(CommonBlockKeys.NONE, variant, 16, null, null, null, null, null,
            null, qk, v, chunk).withDefaults(defaults))
        : StandardMamba2Mixer.of(new SsmBlockConfig(CommonBlockKeys.NONE, variant, 16, null, null, null, null, null,
            null, null, null, chunk, 64, groups, null).withDefaults(defaults));
  }

  /** Attention as LayerBench times it: 8 heads in 2 key/value groups. */
  static SequenceLayer attention(int hidden) {
    return Attention.of(new TransformerBlockConfig(CommonBlockKeys.NONE, null, 8, 2, null, null, null, true, null,
        null, null).withDefaults(new ModelDefaults(hidden, NormalizationConfig.DEFAULT)), LayerContext.defaults());
  }

  /** Inputs {@code [batch, time, hidden]} of {@code type} on {@code device}, and how often to run. */
  record Shape(Device device, torch.ScalarType type, long batch, long time, long hidden, int iters, int warmup) {

    /**
     * Median milliseconds of each of {@code runs} on fresh leaves of {@code base} (a random input when null), one
     * run of each in turn, so that a busy machine slows them alike.
     */
    Millis[] time(List<UnaryOperator<Tensor>> runs, Tensor base) {
      double[] forward = medians(runs, false, base);
      double[] backward = medians(runs, true, base);
      Millis[] out = new Millis[runs.size()];
      for (int k = 0; k < out.length; k++) {
        out[k] = new Millis(forward[k], backward[k]);
      }
      return out;
    }

    /** {@link #time} of scans over random inputs of {@code heads} heads of {@code size}, B and C per group. */
    Millis[] timeScans(List<ScanCall> scans, long heads, long size, long groups, long state) {
      TensorOptions options = new TensorOptions(type).device(new DeviceOptional(device));
      Tensor[] base = {torch.randn(new long[] {batch, time, heads, size}, options),
          torch.softplus(torch.randn(new long[] {batch, time, heads}, options)).neg(),
          torch.randn(new long[] {batch, time, groups, state}, options),
          torch.randn(new long[] {batch, time, groups, state}, options)};
      List<UnaryOperator<Tensor>> runs = scans.stream().<UnaryOperator<Tensor>>map(scan -> x -> {
        Tensor[] rest = new Tensor[3];
        for (int i = 0; i < 3; i++) {
          rest[i] = base[i + 1].detach().clone().set_requires_grad(true);
        }
        return scan.scan(x, rest[0], rest[1], rest[2]);
      }).toList();
      return time(runs, base[0]);
    }

    /** {@code max |loop - batched| / max |loop|} of the mixer's outputs on one input, without gradients. */
    double difference(ScalarDecayMixer mixer, UnaryOperator<Tensor> looped) {
      mixer.to(device, type, false);
      try (NoGradGuard noGrad = new NoGradGuard()) {
        Tensor x = input();
        Tensor expected = looped.apply(x).to(torch.ScalarType.Double);
        Tensor actual = mixer.forward(x).to(torch.ScalarType.Double);
        return actual.sub(expected).abs().max().item_double() / expected.abs().max().item_double();
      }
    }

    private double[] medians(List<UnaryOperator<Tensor>> runs, boolean backward, Tensor base) {
      double[][] millis = new double[runs.size()][iters];
      for (int i = -warmup; i < iters; i++) {
        for (int k = 0; k < runs.size(); k++) {
          try (PointerScope scope = new PointerScope()) {
            Tensor x = (base != null ? base.detach().clone() : input()).set_requires_grad(true);
            x.sum().item_double();  // the input is ready before the clock starts
            long start = System.nanoTime();
            Tensor y = runs.get(k).apply(x);
            if (backward) {
              y.sum().backward();
              x.grad().flatten().select(0, 0).item_double();   // waits for the device
            } else {
              y.flatten().select(0, 0).item_double();
            }
            if (i >= 0) {
              millis[k][i] = (System.nanoTime() - start) / 1e6;
            }
          }
        }
      }
      double[] medians = new double[runs.size()];
      for (int k = 0; k < medians.length; k++) {
        Arrays.sort(millis[k]);
        medians[k] = millis[k][iters / 2];
      }
      return medians;
    }

    private Tensor input() {
      return torch.randn(new long[] {batch, time, hidden}, new TensorOptions(type).device(new DeviceOptional(device)));
    }
  }
}
