package org.fastllm.dsl.count;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.dsl.pattern.StackPlan;

/**
 * Counts the parameters of an expanded stack from its resolved config, before any tensor exists.
 *
 * <pre>{@code
 * // given ModelConfig model
 * ModelCount count = ParameterAccounting.count(BlockPattern.expand(model), BlockKindRegistry.installed());
 * }</pre>
 *
 * <p><b>Shared blocks are counted once; {@code total()} equals the sum over {@link ModelTensors}.</b> Both follow
 * {@link LayerStorage} for what each layer stores; this class only adds up sizes per block, without naming every
 * tensor. Sums use exact arithmetic: a count that does not fit a long is an {@link ArithmeticException}.
 */
public final class ParameterAccounting {
  private ParameterAccounting() {}

  public static ModelCount count(StackPlan plan, BlockKindRegistry kinds) {
    ModelConfig model = plan.model();
    long embeddings = ModelTensors.sum(ModelTensors.wordEmbeddings(model));
    long positions = ModelTensors.sum(ModelTensors.positionEmbeddings(model));
    long finalNorm = ModelTensors.sum(ModelTensors.finalNorm(model));
    long head = ModelTensors.sum(ModelTensors.head(model));

    Map<String, Tally> tallies = new LinkedHashMap<>();
    model.blocks().forEach((name, config) -> tallies.put(name, new Tally(config, kinds.kind(config.kind()).tensors(config))));
    List<LayerCount> layers = new ArrayList<>(plan.layers().size());
    for (LayerPlan layer : plan.layers()) {
      Tally tally = tallies.get(layer.blockName());
      tally.add(LayerStorage.of(layer));
      layers.add(new LayerCount(layer.index(), layer.blockName(), layer.config().kind(), layer.shared(), layer.use(),
          tally.perUse, tally.loraPerUse));
    }
    List<BlockCount> blocks = new ArrayList<>();
    long base = Math.addExact(Math.addExact(embeddings, positions), Math.addExact(finalNorm, head));
    long lora = 0;
    long trainable = base;
    for (var entry : tallies.entrySet()) {
      BlockCount block = entry.getValue().count(entry.getKey());
      blocks.add(block);
      base = Math.addExact(base, block.unique());
      lora = Math.addExact(lora, block.lora());
      trainable = Math.addExact(trainable, block.trainable());
    }
    return new ModelCount(embeddings, positions, blocks, layers, finalNorm, head, base, lora,
        Math.addExact(base, lora), trainable);
  }

  /** What the layers of one block store, added up as the stack is walked. */
  private static final class Tally {
    final BlockConfig config;
    final List<TensorSpec> tensors;
    final long perUse;
    final long loraPerUse;
    int uses;
    int baseCopies;
    int adapterSets;

    Tally(BlockConfig config, List<TensorSpec> tensors) {
      this.config = config;
      this.tensors = tensors;
      this.perUse = ModelTensors.sum(tensors);
      this.loraPerUse = AdapterTensors.count(tensors, config.lora());
    }

    void add(LayerStorage storage) {
      uses++;
      baseCopies += storage.base() ? 1 : 0;
      adapterSets += storage.adapters() ? 1 : 0;
    }

    /**
     * The block's counts. Adapters always train: {@code lr_scale: 0} and {@code freeze_base} freeze the block's
     * own weights only, as the built model does.
     */
    BlockCount count(String name) {
      long unique = Math.multiplyExact(perUse, (long) baseCopies);
      long lora = Math.multiplyExact(loraPerUse, (long) adapterSets);
      LoraConfig adapters = config.lora();
      boolean frozen = config.lrScale() == 0.0 || (adapters != null && adapters.freezeBase());
      long trainable = Math.addExact(frozen ? 0 : unique, lora);
      return new BlockCount(name, config.kind(), uses, config.isShared(), perUse, unique,
          Math.multiplyExact(perUse, (long) uses), lora, trainable, tensors);
    }
  }
}
