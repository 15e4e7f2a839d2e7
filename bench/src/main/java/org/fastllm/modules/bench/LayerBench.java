package org.fastllm.modules.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.attention.Attention;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.mlp.Mlp;
import org.fastllm.modules.ssm.DiscreteMamba2Mixer;
import org.fastllm.modules.ssm.Mamba1Mixer;
import org.fastllm.modules.ssm.Mamba2Mixer;
import org.fastllm.modules.ssm.SelectiveScan;

/**
 * Benchmark, not a test: median forward+backward milliseconds per layer kind, with ratios to attention of the same
 * width measured in the same run. One JSON line per kind and size; on the CPU also a readable table line.
 *
 * <pre class="text">{@code
 * bench/layers-cpu.sh                                       # widths 64,128,256 x lengths 128,512, batch 2, fp32
 * java ... LayerBench --device cuda --dtype bf16 --hidden 1024 --seq 2048 --batch 4 --iters 20
 * }</pre>
 *
 * <p>The layers and sizes match {@code bench/gpu/layers_reference.py}: attention with 8 heads in 2 key/value groups
 * (SDPA), mamba1 (state 16, expansion 2), mamba2 (state 16, d_xb = H/2), discrete_mamba2 (state 16, 4 qk heads, 8 v
 * heads, chunk 64), and a 4H gelu MLP. Timing ends by reading one value of the input gradient back to the host, which
 * waits for the device on CUDA.
 */
public final class LayerBench {
  private LayerBench() {}

  /** The command line, with the CPU defaults. */
  record Options(String device, String dtype, List<Integer> hidden, List<Integer> seq, int batch, int iters,
      int warmup, int scanChunk, int threads, List<String> kinds) {

    static Options parse(String[] args) {
      Map<String, String> given = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        if (!args[i].startsWith("--") || i + 1 == args.length) {
          throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'; names: --device"
              + " cpu|cuda, --dtype fp32|bf16, --hidden 64,128, --seq 128,512, --batch, --iters, --warmup,"
              + " --scan-chunk, --threads, --kinds attention,mamba1,...");
        }
        given.put(args[i].substring(2), args[++i]);
      }
      Options o = new Options(given.getOrDefault("device", "cpu"), given.getOrDefault("dtype", "fp32"),
          ints(given.getOrDefault("hidden", "64,128,256")), ints(given.getOrDefault("seq", "128,512")),
          Integer.parseInt(given.getOrDefault("batch", "2")), Integer.parseInt(given.getOrDefault("iters", "5")),
          Integer.parseInt(given.getOrDefault("warmup", "2")),
          Integer.parseInt(given.getOrDefault("scan-chunk", Integer.toString(SelectiveScan.DEFAULT_CHUNK))),
          Integer.parseInt(given.getOrDefault("threads", "1")),
          List.of(given.getOrDefault("kinds", "attention,mamba1,mamba2,discrete_mamba2,mlp").split(",")));
      if (!List.of("fp32", "bf16").contains(o.dtype)) {
        throw new IllegalArgumentException("--dtype: '" + o.dtype + "' is not fp32 or bf16");
      }
      return o;
    }

    torch.ScalarType scalarType() {
      return dtype.equals("bf16") ? torch.ScalarType.BFloat16 : torch.ScalarType.Float;
    }

    private static List<Integer> ints(String list) {
      return Arrays.stream(list.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }
  }

  public static void main(String[] args) {
    Options o = Options.parse(args);
    torch.set_num_threads(o.threads());
    torch.manual_seed(1);
    Device device = new Device(o.device());
    for (int hidden : o.hidden()) {
      for (int time : o.seq()) {
        Map<String, Double> ms = new LinkedHashMap<>();
        for (String kind : o.kinds()) {
          try (PointerScope scope = new PointerScope()) {
            SequenceLayer layer = layer(kind, hidden, o.scanChunk());
            layer.to(device, o.scalarType(), false);
            ms.put(kind, time(layer, o, device, time, hidden));
          }
        }
        Double base = ms.get("attention");
        List<String> table = new ArrayList<>();
        ms.forEach((kind, t) -> {
          String ratio = base == null ? "null" : String.format(Locale.ROOT, "%.3f", t / base);
          System.out.printf(Locale.ROOT, "{\"kind\": \"%s\", \"device\": \"%s\", \"dtype\": \"%s\", \"hidden\": %d,"
              + " \"seq\": %d, \"batch\": %d, \"iters\": %d, \"median_ms\": %.3f, \"ratio_to_attention\": %s}%n",
              kind, o.device(), o.dtype(), hidden, time, o.batch(), o.iters(), t, ratio);
          table.add(String.format(Locale.ROOT, "%s %.1f ms (x%s)", kind, t, ratio));
        });
        System.out.printf(Locale.ROOT, "# H=%-4d b=%d t=%-4d  %s%n", hidden, o.batch(), time,
            String.join("  ", table));
      }
    }
  }

  /** The scan of a mamba kind: tensor operations for {@code -tensor-scan}, else the kernels at their defaults. */
  private static SelectiveScan scan(String kind, int chunk) {
    return kind.endsWith("-tensor-scan") ? SelectiveScan.tensorOperations(chunk)
        : SelectiveScan.of(chunk, LayerContext.defaults());
  }

  /** The benchmarked layer of a kind at a width; the scan chunk applies to mamba1 and mamba2. */
  static SequenceLayer layer(String kind, int hidden, int scanChunk) {
    ModelDefaults defaults = new ModelDefaults(hidden, NormalizationConfig.DEFAULT);
    return switch (kind) {
      case "attention" -> Attention.of(new TransformerBlockConfig(CommonBlockKeys.NONE, null, 8, 2, null, null, null,
          true, null, null, null).withDefaults(defaults), LayerContext.defaults());
      case "mamba1", "mamba1-tensor-scan" -> Mamba1Mixer.of(SsmBlockConfig.of(SsmVariant.MAMBA1)
          .withDefaults(defaults), scan(kind, scanChunk));
      case "mamba2", "mamba2-tensor-scan" -> Mamba2Mixer.of(new SsmBlockConfig(CommonBlockKeys.NONE,
          SsmVariant.MAMBA2, 16, null, null, null, null, hidden / 2, null, null, null, null)
          .withDefaults(defaults), scan(kind, scanChunk));
      case "discrete_mamba2" -> DiscreteMamba2Mixer.of(new SsmBlockConfig(CommonBlockKeys.NONE,
          SsmVariant.DISCRETE_MAMBA2, 16, null, null, null, null, null, null, 4, 8, 64)
          .withDefaults(defaults));
      case "mlp" -> new Mlp(hidden, 4L * hidden, false, Activation.GELU, true);
      default -> throw new IllegalArgumentException("--kinds: '" + kind
          + "' is not attention, mamba1, mamba2, discrete_mamba2, mlp, mamba1-tensor-scan or mamba2-tensor-scan");
    };
  }

  /** Median milliseconds of forward+backward over {@code iters} runs after {@code warmup} runs. */
  static double time(SequenceLayer layer, Options o, Device device, int time, int hidden) {
    double[] runs = new double[o.iters()];
    TensorOptions options = new TensorOptions(o.scalarType()).device(new DeviceOptional(device));
    for (int i = -o.warmup(); i < runs.length; i++) {
      try (PointerScope scope = new PointerScope()) {
        Tensor x = torch.randn(new long[] {o.batch(), time, hidden}, options).set_requires_grad(true);
        x.sum().item_double();  // the input is ready before the clock starts
        long start = System.nanoTime();
        layer.forward(x).sum().backward();
        x.grad().select(0, 0).select(0, 0).select(0, 0).item_double();  // waits for the device
        if (i >= 0) {
          runs[i] = (System.nanoTime() - start) / 1e6;
        }
      }
    }
    Arrays.sort(runs);
    return runs[runs.length / 2];
  }
}
