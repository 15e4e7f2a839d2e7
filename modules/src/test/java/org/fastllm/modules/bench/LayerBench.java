package org.fastllm.modules.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.DtRank;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.attention.Attention;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.mlp.Mlp;
import org.fastllm.modules.ssm.DiscreteMamba2Mixer;
import org.fastllm.modules.ssm.Mamba1Mixer;
import org.fastllm.modules.ssm.Mamba2Mixer;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * CPU benchmark, not a test: forward+backward time per mixer kind at a few widths, as ratios to attention of the
 * same width measured in the same run; then RSS over 1000 training steps of a tiny model.
 *
 * <pre>{@code bench/layers-cpu.sh}</pre>
 */
public final class LayerBench {
  private LayerBench() {}

  public static void main(String[] args) throws Exception {
    torch.set_num_threads(1);
    torch.manual_seed(1);
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    for (int hidden : new int[] {64, 128, 256}) {
      for (int time : new int[] {128, 512}) {
        Map<String, SequenceLayer> layers = layers(hidden);
        Map<String, Double> ms = new LinkedHashMap<>();
        layers.forEach((name, layer) -> ms.put(name, time(layer, 2, time, hidden)));
        double base = ms.get("attention");
        StringBuilder line = new StringBuilder(String.format("H=%-4d b=2 t=%-4d", hidden, time));
        ms.forEach((name, t) -> line.append(String.format("  %s %.1f ms (x%.2f)", name, t, t / base)));
        System.out.println(line);
      }
    }
    memory(steps);
  }

  static Map<String, SequenceLayer> layers(int hidden) {
    ModelDefaults defaults = new ModelDefaults(hidden, NormalizationConfig.DEFAULT);
    Map<String, SequenceLayer> layers = new LinkedHashMap<>();
    layers.put("attention", Attention.of(new TransformerBlockConfig(null, null, null, null, null, null, null, null,
        null, null, null, 8, 2, null, null, null, true, null, null).withDefaults(defaults)));
    layers.put("mamba1", Mamba1Mixer.of(SsmBlockConfig.of(SsmVariant.MAMBA1).withDefaults(defaults)));
    layers.put("mamba2", Mamba2Mixer.of(new SsmBlockConfig(null, null, null, null, null, null, null, null, null, null,
        SsmVariant.MAMBA2, 16, null, null, null, null, hidden / 2, null, null, null, null).withDefaults(defaults)));
    layers.put("discrete_mamba2", DiscreteMamba2Mixer.of(new SsmBlockConfig(null, null, null, null, null, null, null,
        null, null, null, SsmVariant.DISCRETE_MAMBA2, 16, null, null, null, null, null, null, 4, 8, 64)
        .withDefaults(defaults)));
    layers.put("mlp", new Mlp(hidden, 4L * hidden, false, org.fastllm.dsl.config.Activation.GELU, true));
    return layers;
  }

  /** Median milliseconds of forward+backward over a few repetitions after a warm-up. */
  static double time(SequenceLayer layer, int batch, int time, int hidden) {
    double[] runs = new double[5];
    for (int i = -2; i < runs.length; i++) {
      try (PointerScope scope = new PointerScope()) {
        Tensor x = torch.randn(new long[] {batch, time, hidden}, new TensorOptions(torch.ScalarType.Float))
            .set_requires_grad(true);
        long start = System.nanoTime();
        layer.forward(x).sum().backward();
        if (i >= 0) {
          runs[i] = (System.nanoTime() - start) / 1e6;
        }
      }
    }
    java.util.Arrays.sort(runs);
    return runs[runs.length / 2];
  }

  static void memory(int steps) throws Exception {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("alice", new TransformerBlockConfig(null, null, null, null, null, null, null, null, null, null, null, 4,
        1, null, null, null, true, null, null));
    blocks.put("claire", SsmBlockConfig.of(SsmVariant.MAMBA1));
    blocks.put("dave", new SsmBlockConfig(null, null, null, null, null, null, null, null, null, null,
        SsmVariant.DISCRETE_MAMBA2, 8, null, null, null, null, null, null, 2, 4, 16));
    ModelConfig config = new ModelConfig(32, 64, false, null, blocks, List.of("alice", "claire", "dave"), 3, 64, false)
        .withDefaults();
    LanguageModel model = StackBuilder.installed().build(config);
    AdamW optimizer = new AdamW(model.trainableTensors(), new AdamWOptions(1e-3));
    Tensor tokens = torch.randint(64, new long[] {4, 33}, new TensorOptions(torch.ScalarType.Long));
    double firstLoss = 0;
    double lastLoss = 0;
    long startRss = 0;
    for (int step = 0; step < steps; step++) {
      try (PointerScope scope = new PointerScope()) {
        optimizer.zero_grad();
        Tensor loss = model.loss(tokens.narrow(1, 0, 32), tokens.narrow(1, 1, 32));
        loss.backward();
        optimizer.step();
        lastLoss = loss.item_double();
      }
      if (step == 9) {
        startRss = rssKib();
        firstLoss = lastLoss;
        System.out.printf("memory: step 10 RSS %d MiB, loss %.3f%n", startRss / 1024, lastLoss);
      }
    }
    long endRss = rssKib();
    System.out.printf("memory: step %d RSS %d MiB, loss %.3f (growth %+d MiB over %d steps)%n", steps, endRss / 1024,
        lastLoss, (endRss - startRss) / 1024, steps - 10);
  }

  static long rssKib() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    return -1;
  }
}
