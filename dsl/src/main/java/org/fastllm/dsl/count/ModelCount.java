package org.fastllm.dsl.count;

import java.util.List;

/**
 * Exact parameter counts of a model, from its config alone.
 *
 * <pre>{@code
 * // given StackPlan plan, BlockKindRegistry kinds
 * ModelCount c = ParameterAccounting.count(plan, kinds); c.total();
 * }</pre>
 *
 * @param embeddings word embeddings {@code [vocab, H]}
 * @param positionEmbeddings learned positions {@code [max_sequence_length, H]}, or 0
 * @param finalNorm the norm after the last layer
 * @param head the output projection {@code [vocab, H]}, 0 when tied to the embeddings
 * @param base every stored parameter but LoRA: embeddings, positions, unique block parameters, final norm, head
 * @param lora every stored adapter parameter
 * @param total {@code base + lora}: what a checkpoint holds
 * @param trainable what the optimizer updates
 */
public record ModelCount(long embeddings, long positionEmbeddings, List<BlockCount> blocks, List<LayerCount> layers,
    long finalNorm, long head, long base, long lora, long total, long trainable) {

  public ModelCount {
    blocks = List.copyOf(blocks);
    layers = List.copyOf(layers);
  }

  /** Parameters of all layers as if no block were shared. */
  public long effectiveBlocks() {
    return blocks.stream().mapToLong(BlockCount::effective).sum();
  }
}
