package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidModel;

/**
 * The model: named blocks, the pattern that stacks them, and the parts around the stack.
 *
 * <pre>{@code
 * model:
 *   blocks:
 *     alice: {kind: transformer, attention_type: mqa}
 *     bob:   {kind: ssm, variant: mamba1}
 *   block_pattern: [alice, bob]
 *   num_layers: 4
 * }</pre>
 *
 * <p>The pattern repeats to reach {@code num_layers}; the last repetition may be cut short. Block order is kept as
 * written.
 *
 * @param hiddenSize residual width (default: the blocks' when only they give it, else 1024)
 * @param positionEmbeddings learned absolute position embeddings {@code [max_sequence_length, H]} (default false)
 */
@Doc(rules = {
    "every block_pattern entry names a block in blocks (with a did-you-mean suggestion)",
    "block names start with a letter or _ and hold only letters, digits, _ and -",
    "a block that gives hidden_size gives the model's",
    "num_layers is between 1 and 1,000,000; when it is not a multiple of the pattern's length the last repetition is cut short (warning naming where)",
    "a block no layer uses is a warning"})
@ValidModel
public record ModelConfig(
    @Doc(value = "the residual width every block shares", defaultValue = "the blocks' when only they give it, else 1024")
    @Min(value = 1, message = "must be at least 1") Integer hiddenSize,
    @Doc("tokens in the vocabulary: rows of the embedding and the output head")
    @Min(value = 1, message = "must be at least 1") Integer vocabSize,
    @Doc("the output head reuses the embedding matrix")
    Boolean tiedEmbeddingWeight,
    @Doc("the norm blocks inherit and the final norm")
    @Valid NormalizationConfig normalization,
    @Doc(value = "named block configs; names are free words, each with a kind", defaultValue = "required")
    Map<String, @Valid BlockConfig> blocks,
    @Doc(value = "block names in layer order, repeated to reach num_layers", defaultValue = "required")
    List<String> blockPattern,
    @Doc(value = "layers in the stack, at most 1,000,000", defaultValue = "required")
    Integer numLayers,
    @Doc("longest sequence the model is built for")
    @Min(value = 1, message = "must be at least 1") Integer maxSequenceLength,
    @Doc("learned absolute position embeddings [max_sequence_length, H]")
    Boolean positionEmbeddings) {

  public static final int DEFAULT_HIDDEN_SIZE = 1024;
  public static final int DEFAULT_VOCAB_SIZE = 49152;
  public static final int DEFAULT_MAX_SEQUENCE_LENGTH = 2048;

  public ModelConfig {
    blocks = blocks == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(blocks));
    blockPattern = blockPattern == null ? null : Collections.unmodifiableList(new java.util.ArrayList<>(blockPattern));
  }

  /**
   * A copy with every absent key given its default, the blocks resolved against the model's width and norm: the one
   * way to make the {@link ResolvedModel} the stack builder takes. Idempotent.
   */
  public ResolvedModel withDefaults() {
    int hidden = hiddenSize != null ? hiddenSize : hiddenFromBlocks();
    NormalizationConfig norm = normalization == null
        ? NormalizationConfig.DEFAULT
        : normalization.orElse(NormalizationConfig.DEFAULT);
    ModelDefaults defaults = new ModelDefaults(hidden, norm);
    Map<String, BlockConfig> resolved = null;
    if (blocks != null) {
      resolved = new LinkedHashMap<>();
      for (Map.Entry<String, BlockConfig> e : blocks.entrySet()) {
        resolved.put(e.getKey(), e.getValue() == null ? null : e.getValue().withDefaults(defaults));
      }
    }
    return new ResolvedModel(new ModelConfig(
        hidden,
        vocabSize != null ? vocabSize : DEFAULT_VOCAB_SIZE,
        tiedEmbeddingWeight != null && tiedEmbeddingWeight,
        norm,
        resolved,
        blockPattern,
        numLayers,
        maxSequenceLength != null ? maxSequenceLength : DEFAULT_MAX_SEQUENCE_LENGTH,
        positionEmbeddings != null && positionEmbeddings));
  }

  /** The first hidden size a block gives, or the default; disagreements are reported by validation. */
  private int hiddenFromBlocks() {
    if (blocks == null) {
      return DEFAULT_HIDDEN_SIZE;
    }
    return blocks.values().stream()
        .filter(Objects::nonNull)
        .map(BlockConfig::hiddenSize)
        .filter(Objects::nonNull)
        .findFirst()
        .orElse(DEFAULT_HIDDEN_SIZE);
  }
}
