package org.fastllm.modules.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.dsl.pattern.StackPlan;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The bytes of a model's decoding state after prompts of several lengths, one sequence, per block of the stack, read
 * from the state tensors themselves: an attention layer's keys and values grow with the context (up to its window),
 * an SSM layer's convolution window and recurrent state do not. The bytes grow linearly with the batch.
 */
final class DecodeStateMemory {
  private final LanguageModel model;
  private final StackPlan plan;
  private final Device device;

  DecodeStateMemory(LanguageModel model, StackPlan plan, Device device) {
    this.model = model;
    this.plan = plan;
    this.device = device;
  }

  /** Prints one line per block name: its layers' state bytes at each context length, then the stack's total. */
  void print(String name, List<Integer> contexts, long vocab) {
    Map<String, long[]> bytes = new LinkedHashMap<>();
    Map<String, Integer> layers = new LinkedHashMap<>();
    long[] total = new long[contexts.size()];
    for (int c = 0; c < contexts.size(); c++) {
      try (PointerScope scope = new PointerScope(); Decoding decoding = model.startDecoding(1)) {
        DecodeRun run = new DecodeRun(model, device, DecodeBench.prompt(1, contexts.get(c), vocab));
        model.decodeLogits(run.promptTensor(), decoding);
        for (int i = 0; i < model.numLayers(); i++) {
          LayerPlan layer = plan.layers().get(i);
          String key = String.format(Locale.ROOT, "%-8s %-26s", layer.blockName(), label(layer.config()));
          bytes.computeIfAbsent(key, k -> new long[contexts.size()])[c] += decoding.bytes(i);
          if (c == 0) {
            layers.merge(key, 1, Integer::sum);
          }
          total[c] += decoding.bytes(i);
        }
      }
    }
    System.out.printf(Locale.ROOT, "# decode state of java %s, one sequence (bytes scale with the batch), MiB at"
        + " context %s, per layer and for the block's layers together%n", name, contexts);
    bytes.forEach((key, b) -> {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "state %-12s %s %2d layers:", name, key,
          layers.get(key)));
      for (long v : b) {
        line.append(String.format(Locale.ROOT, "  %8.3f/layer %9.3f", v / 1048576.0 / layers.get(key),
            v / 1048576.0));
      }
      System.out.println(line);
    });
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "state %-12s %-35s %2d layers:", name, "all",
        model.numLayers()));
    for (long v : total) {
      line.append(String.format(Locale.ROOT, "  %8s       %9.3f", "", v / 1048576.0));
    }
    System.out.println(line);
  }

  private static String label(BlockConfig config) {
    if (config instanceof TransformerBlockConfig t) {
      return "attention " + lower(t.attentionType()) + (Boolean.TRUE.equals(t.slidingWindow())
          ? " window " + t.windowSize() : "");
    }
    if (config instanceof SsmBlockConfig s) {
      return "ssm " + lower(s.variant());
    }
    return config.kind();
  }

  private static String lower(Enum<?> value) {
    return value == null ? "?" : value.name().toLowerCase(Locale.ROOT);
  }
}
