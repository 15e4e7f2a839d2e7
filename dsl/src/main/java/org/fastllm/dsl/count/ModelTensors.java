package org.fastllm.dsl.count;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;

/**
 * Every unique parameter tensor of a whole model, named as the built model names them, from the resolved config
 * alone: {@code embeddings.word.weight [vocab, H]}, {@code embeddings.position.weight [max_sequence_length, H]} when
 * asked, {@code layers.<i>.<block tensor>} for each layer (a shared block only at its first use),
 * {@code final_norm.*}, and {@code output.weight [vocab, H]} unless the embeddings are tied. LoRA adapters are not
 * listed.
 *
 * <pre>{@code ModelTensors.of(model.withDefaults(), BlockKindRegistry.installed()).stream().mapToLong(TensorSpec::numel).sum()}</pre>
 */
public final class ModelTensors {
  private ModelTensors() {}

  public static List<TensorSpec> of(ModelConfig resolved, BlockKindRegistry kinds) {
    long hidden = resolved.hiddenSize();
    long vocab = resolved.vocabSize();
    List<TensorSpec> all = new ArrayList<>();
    all.add(TensorSpec.other("embeddings.word.weight", false, vocab, hidden));
    if (resolved.positionEmbeddings()) {
      all.add(TensorSpec.other("embeddings.position.weight", false, resolved.maxSequenceLength(), hidden));
    }
    Set<String> sharedSeen = new HashSet<>();
    for (LayerPlan layer : BlockPattern.expand(resolved).layers()) {
      if (layer.shared() && !sharedSeen.add(layer.blockName())) {
        continue;
      }
      String prefix = "layers." + layer.index() + ".";
      for (TensorSpec t : kinds.kind(layer.config().kind()).tensors(layer.config())) {
        all.add(new TensorSpec(prefix + t.name(), t.shape(), t.weightDecay(), t.linear()));
      }
    }
    all.addAll(BlockTensors.norm("final_norm", resolved.normalization(), hidden));
    if (!resolved.tiedEmbeddingWeight()) {
      all.add(TensorSpec.other("output.weight", true, vocab, hidden));
    }
    return List.copyOf(all);
  }

  /** The number of values of all unique tensors. */
  public static long count(ModelConfig resolved, BlockKindRegistry kinds) {
    long n = 0;
    for (TensorSpec t : of(resolved, kinds)) {
      n = Math.addExact(n, t.numel());
    }
    return n;
  }
}
