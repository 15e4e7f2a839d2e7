package org.fastllm.dsl.count;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.layout.BlockTensors;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;

/**
 * Every unique parameter tensor of a whole model, named as the built model names them, from the resolved config
 * alone, in the built model's registration order: {@code embeddings.word.weight [vocab, H]},
 * {@code embeddings.position.weight [max_sequence_length, H]} when asked, for each layer that stores its block
 * ({@link LayerStorage}) {@code layers.<i>.<block tensor>} followed by the block's adapters
 * {@code layers.<i>.lora.<target>.{a,b}}, then the per-use adapters of shared blocks
 * {@code adapters.<i>.<target>.{a,b}}, {@code final_norm.*}, and {@code output.weight [vocab, H]} unless the
 * embeddings are tied.
 *
 * <pre>{@code
 * // given ModelConfig model, BlockKindRegistry kinds
 * ModelTensors.count(model.withDefaults().config(), kinds)  // == ParameterAccounting's total
 * }</pre>
 */
public final class ModelTensors {
  private ModelTensors() {}

  public static List<TensorSpec> of(ModelConfig resolved, BlockKindRegistry kinds) {
    List<TensorSpec> all = new ArrayList<>(wordEmbeddings(resolved));
    all.addAll(positionEmbeddings(resolved));
    List<TensorSpec> useAdapters = new ArrayList<>();
    Map<String, List<TensorSpec>> blockTensors = new HashMap<>();
    for (LayerPlan layer : BlockPattern.expand(resolved).layers()) {
      BlockConfig config = layer.config();
      List<TensorSpec> block = blockTensors.computeIfAbsent(layer.blockName(), n -> kinds.kind(config.kind()).tensors(config));
      LayerStorage storage = LayerStorage.of(layer);
      if (storage.base()) {
        addPrefixed(all, "layers." + layer.index() + ".", block);
      }
      if (storage.adapters()) {
        addPrefixed(storage.useAdapters() ? useAdapters : all,
            LayerStorage.adapterPrefix(layer.index(), storage.useAdapters()), AdapterTensors.of(block, config.lora()));
      }
    }
    all.addAll(useAdapters);
    all.addAll(finalNorm(resolved));
    all.addAll(head(resolved));
    return List.copyOf(all);
  }

  /** The number of values of all unique tensors. */
  public static long count(ModelConfig resolved, BlockKindRegistry kinds) {
    return sum(of(resolved, kinds));
  }

  /** The word embeddings {@code [vocab, H]}. */
  static List<TensorSpec> wordEmbeddings(ModelConfig resolved) {
    return List.of(TensorSpec.other("embeddings.word.weight", false, resolved.vocabSize(), resolved.hiddenSize()));
  }

  /** The learned positions {@code [max_sequence_length, H]}, or nothing. */
  static List<TensorSpec> positionEmbeddings(ModelConfig resolved) {
    return resolved.positionEmbeddings()
        ? List.of(TensorSpec.other("embeddings.position.weight", false, resolved.maxSequenceLength(),
            resolved.hiddenSize()))
        : List.of();
  }

  static List<TensorSpec> finalNorm(ModelConfig resolved) {
    return BlockTensors.norm("final_norm", resolved.normalization(), resolved.hiddenSize());
  }

  /** The output head {@code [vocab, H]}, or nothing when tied to the embeddings. */
  static List<TensorSpec> head(ModelConfig resolved) {
    return resolved.tiedEmbeddingWeight()
        ? List.of()
        : List.of(TensorSpec.other("output.weight", true, resolved.vocabSize(), resolved.hiddenSize()));
  }

  static long sum(List<TensorSpec> tensors) {
    long n = 0;
    for (TensorSpec t : tensors) {
      n = Math.addExact(n, t.numel());
    }
    return n;
  }

  private static void addPrefixed(List<TensorSpec> into, String prefix, List<TensorSpec> tensors) {
    for (TensorSpec t : tensors) {
      into.add(new TensorSpec(prefix + t.name(), t.shape(), t.weightDecay(), t.linear()));
    }
  }
}
