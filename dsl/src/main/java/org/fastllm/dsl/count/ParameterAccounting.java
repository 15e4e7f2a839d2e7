package org.fastllm.dsl.count;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.dsl.pattern.StackPlan;

/**
 * Counts the parameters of an expanded stack from its resolved config, before any tensor exists.
 *
 * <pre>{@code ModelCount count = ParameterAccounting.count(BlockPattern.expand(model), BlockKindRegistry.installed());}</pre>
 *
 * <p><b>Shared blocks are counted once.</b> Sums use exact arithmetic: a count that does not fit a long is an
 * {@link ArithmeticException}.
 */
public final class ParameterAccounting {
  private ParameterAccounting() {}

  public static ModelCount count(StackPlan plan, BlockKindRegistry kinds) {
    ModelConfig model = plan.model();
    long hidden = model.hiddenSize();
    long embeddings = Math.multiplyExact((long) model.vocabSize(), hidden);
    long positions = model.positionEmbeddings() ? Math.multiplyExact((long) model.maxSequenceLength(), hidden) : 0;
    long finalNorm = BlockTensors.norm("final_norm", model.normalization(), hidden).stream()
        .mapToLong(TensorSpec::numel).sum();
    long head = model.tiedEmbeddingWeight() ? 0 : embeddings;

    Map<String, Integer> uses = plan.usesByBlock();
    Map<String, long[]> perBlock = new HashMap<>();
    List<BlockCount> blocks = new ArrayList<>();
    long base = Math.addExact(Math.addExact(embeddings, positions), Math.addExact(finalNorm, head));
    long lora = 0;
    long trainable = base;
    for (var entry : model.blocks().entrySet()) {
      BlockCount block = countBlock(entry.getKey(), entry.getValue(), uses.get(entry.getKey()), kinds);
      blocks.add(block);
      perBlock.put(block.name(), new long[] {block.perUse(), loraPerUse(block.tensors(), entry.getValue().lora())});
      base = Math.addExact(base, block.unique());
      lora = Math.addExact(lora, block.lora());
      trainable = Math.addExact(trainable, block.trainable());
    }
    List<LayerCount> layers = new ArrayList<>(plan.layers().size());
    for (LayerPlan layer : plan.layers()) {
      long[] counts = perBlock.get(layer.blockName());
      layers.add(new LayerCount(layer.index(), layer.blockName(), layer.config().kind(), layer.shared(), layer.use(),
          counts[0], counts[1]));
    }
    return new ModelCount(embeddings, positions, blocks, layers, finalNorm, head, base, lora,
        Math.addExact(base, lora), trainable);
  }

  private static BlockCount countBlock(String name, BlockConfig config, int uses, BlockKindRegistry kinds) {
    List<TensorSpec> tensors = kinds.kind(config.kind()).tensors(config);
    long perUse = 0;
    for (TensorSpec t : tensors) {
      perUse = Math.addExact(perUse, t.numel());
    }
    boolean shared = config.isShared();
    long unique = shared ? (uses > 0 ? perUse : 0) : Math.multiplyExact(perUse, (long) uses);
    long effective = Math.multiplyExact(perUse, (long) uses);
    LoraConfig adapters = config.lora();
    long loraPerUse = loraPerUse(tensors, adapters);
    boolean onePerUse = !shared || (adapters != null && adapters.perUse());
    long lora = onePerUse ? Math.multiplyExact(loraPerUse, (long) uses) : (uses > 0 ? loraPerUse : 0);
    boolean frozen = config.lrScale() == 0.0 || (adapters != null && adapters.freezeBase());
    long trainable = Math.addExact(frozen ? 0 : unique, config.lrScale() == 0.0 ? 0 : lora);
    return new BlockCount(name, config.kind(), uses, shared, perUse, unique, effective, lora, trainable, tensors);
  }

  /** rank x (in + out) for every linear weight the adapters target. */
  static long loraPerUse(List<TensorSpec> tensors, LoraConfig adapters) {
    if (adapters == null) {
      return 0;
    }
    long total = 0;
    for (TensorSpec t : tensors) {
      if (t.isLinearWeight() && adapters.targets().contains(t.linear())) {
        long outPlusIn = Math.addExact(t.shape().get(0), t.shape().get(1));
        total = Math.addExact(total, Math.multiplyExact((long) adapters.rank(), outPlusIn));
      }
    }
    return total;
  }
}
