package org.fastllm.modules.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;

/**
 * Benchmark, not a test, meant for a JVM of its own: RSS over training steps (forward, backward, AdamW) of a tiny
 * hybrid model with one {@link PointerScope} per step, printed at steps 10, 100, 500 and the last, with the growth
 * per step after warm-up.
 *
 * <pre class="text">{@code
 * bench/native-memory.sh [steps [pattern]]   # 1000 steps of alice,sam,mia,sam by default
 * }</pre>
 *
 * <p>Flat means well under 5 MiB growth after step 100. The script fixes and pre-touches the Java heap
 * ({@code -Xms256m -Xmx256m -XX:+AlwaysPreTouch}): with a growing heap, RSS rose about 17 KiB per step from the heap
 * alone, which looks like a native leak and is not one.
 *
 * <p>The model mixes what allocates per step: attention with rotary and a sliding-window mask, a mamba2 mixer, and a
 * shared transformer block with per-use LoRA adapters, used twice.
 */
public final class NativeMemoryBench {
  private static final Set<Integer> REPORTED = Set.of(10, 100, 500);

  private NativeMemoryBench() {}

  public static void main(String[] args) throws Exception {
    int steps = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    torch.set_num_threads(1);
    torch.manual_seed(1);
    List<String> pattern = List.of((args.length > 1 ? args[1] : "alice,sam,mia,sam").split(","));
    LanguageModel model = StackBuilder.installed().build(config(pattern));
    AdamW optimizer = new AdamW(model.trainableTensors(), new AdamWOptions(1e-3));
    Tensor tokens = torch.randint(64, new long[] {4, 65}, new TensorOptions(torch.ScalarType.Long));
    Tensor inputs = tokens.narrow(1, 0, 64);
    Tensor targets = tokens.narrow(1, 1, 64);
    long warmRss = 0;
    long start = System.nanoTime();
    for (int step = 1; step <= steps; step++) {
      double loss;
      try (PointerScope scope = new PointerScope()) {
        optimizer.zero_grad();
        Tensor value = model.loss(inputs, targets);
        value.backward();
        optimizer.step();
        loss = value.item_double();
      }
      if (REPORTED.contains(step) || step == steps) {
        long rss = rssKib();
        warmRss = step == 100 ? rss : warmRss;
        System.out.printf("step %4d  RSS %6.1f MiB  loss %.3f  %.1f ms/step%n", step, rss / 1024.0, loss,
            (System.nanoTime() - start) / 1e6 / step);
      }
    }
    if (steps > 100) {
      long growth = rssKib() - warmRss;
      System.out.printf("growth after step 100: %+.1f MiB over %d steps (%+.1f KiB/step)%n", growth / 1024.0,
          steps - 100, (double) growth / (steps - 100));
    }
  }

  /** The blocks alice (attention, window 16), mia (mamba2) and sam (shared, per-use LoRA), in {@code pattern}. */
  public static ResolvedModel config(List<String> pattern) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("alice", new TransformerBlockConfig(CommonBlockKeys.NONE, null, 4, 2, null, true, 16, true, null, null, null));
    blocks.put("mia", new SsmBlockConfig(CommonBlockKeys.NONE, SsmVariant.MAMBA2, 8, null, null, null, null, 16, null,
        null, null, null));
    blocks.put("sam", new TransformerBlockConfig(new CommonBlockKeys(true, null, null, null, null, null, null, null,
        new LoraConfig(2, null, null, List.of("query", "dense"), null, true), null), null, 4, 1, null, null, null,
        true, null, null, null));
    return new ModelConfig(32, 64, false, null, blocks, pattern, pattern.size(), 64, false)
        .withDefaults();
  }

  static long rssKib() throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("\\D", ""));
      }
    }
    throw new IllegalStateException("no VmRSS line in /proc/self/status");
  }
}
