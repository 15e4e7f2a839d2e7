package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonTypeInfo;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;

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
@Doc(rules = {
    "ffn_hidden_size is given when 4 x hidden_size does not fit a 32-bit integer",
    "lora.per_use needs shared_weights: true",
    "lora.targets names at least one linear layer, each one the kind has (read from its parameter layout, plugin kinds too)"})
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "kind")
public interface BlockConfig {

  /** When true every use of the block shares one set of parameters (default false). */
  @Doc("every use of the block shares one set of parameters: built once, counted, optimised and stored once")
  Boolean sharedWeights();

  /** The residual width; optional, must agree with the model's. */
  @Doc(value = "the residual width; may repeat the model's, must then agree", defaultValue = "the model's hidden_size")
  Integer hiddenSize();

  /** The block's two pre-norms (default: the model's normalization). */
  @Doc(value = "the block's two pre-norms", defaultValue = "the model's normalization")
  NormalizationConfig normalization();

  /** MLP inner width (default 4 x hidden; 0 leaves the MLP out). */
  @Doc(value = "MLP inner width; 0 leaves the MLP out", defaultValue = "4 x hidden_size")
  Integer ffnHiddenSize();

  /** Gated MLP (layer_1 twice as wide, default false). */
  @Doc("gated MLP: layer_1 is twice as wide")
  Boolean gated();

  /** MLP activation (default silu when gated, else gelu). */
  @Doc(value = "MLP activation", defaultValue = "silu when gated, else gelu")
  Activation activation();

  /** Learning-rate multiplier (default 1; 0 freezes the block). */
  @Doc("learning-rate multiplier of the block's tensors; 0 freezes the block")
  Double lrScale();

  /** Dropout after the mixer and the MLP (default 0). */
  @Doc("dropout after the mixer and after the MLP")
  Double dropout();

  /** Low-rank adapters, or null for none. */
  @Doc(value = "low-rank adapters on some of the block's linear layers", defaultValue = "none")
  LoraConfig lora();

  /** Whether the block's linear layers carry biases. */
  @Doc("the block's linear layers carry biases")
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
