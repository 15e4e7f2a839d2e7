package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.fastllm.dsl.Block;

/**
 * The configuration of one named block. Implementations are records annotated with {@link Block}.
 *
 * <pre>{@code
 * bob: {kind: transformer, attention_type: gqa, num_heads: 16, shared_weights: true}
 * }</pre>
 *
 * <p>Every block is pre-norm: {@code x + mixer(norm(x))}, then {@code x + mlp(norm(x))}, the MLP left out when
 * {@code ffn_hidden_size} is 0. Values read from YAML may be absent (null); {@link #withDefaults} fills them in.
 * <b>A resolved config has no absent value except those that do not apply to it.</b>
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "kind")
public interface BlockConfig {

  /** When true every use of the block shares one set of parameters (default false). */
  Boolean sharedWeights();

  /** The residual width; optional, must agree with the model's. */
  Integer hiddenSize();

  NormalizationConfig normalization();

  /** MLP inner width (default 4 x hidden; 0 leaves the MLP out). */
  Integer ffnHiddenSize();

  /** Gated MLP (layer_1 twice as wide, default false). */
  Boolean gated();

  /** MLP activation (default silu when gated, else gelu). */
  Activation activation();

  /** Learning-rate multiplier (default 1; 0 freezes the block). */
  Double lrScale();

  /** Dropout after the mixer and the MLP (default 0). */
  Double dropout();

  /** Low-rank adapters, or null for none. */
  LoraConfig lora();

  /** Whether the block's linear layers carry biases. */
  Boolean addLinearBiases();

  /** A copy with every absent key given its default; idempotent. */
  BlockConfig withDefaults(ModelDefaults defaults);

  /** The {@code kind} this config is registered under, read from its {@link Block} annotation. */
  static String kindOf(Class<? extends BlockConfig> type) {
    Block block = type.getAnnotation(Block.class);
    if (block == null) {
      throw new IllegalArgumentException(type.getName() + " has no @Block(kind = ...) annotation");
    }
    return block.kind();
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  default String kind() {
    return kindOf(getClass());
  }

  /** Whether the resolved block shares its weights across uses. */
  @com.fasterxml.jackson.annotation.JsonIgnore
  default boolean isShared() {
    return Boolean.TRUE.equals(sharedWeights());
  }
}
