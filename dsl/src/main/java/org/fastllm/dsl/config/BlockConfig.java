package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import com.fasterxml.jackson.annotation.JsonUnwrapped;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidCommonBlockKeys;

/**
 * The configuration of one named block. Implementations are records annotated with {@link Block} whose first
 * component is {@code CommonBlockKeys common}, followed by the kind's own keys only.
 *
 * <pre>{@code
 * bob: {kind: transformer, attention_type: gqa, num_heads: 16, shared_weights: true}
 * }</pre>
 *
 * <p>Every block is pre-norm: {@code x + mixer(norm(x))}, then {@code x + mlp(norm(x))}, the MLP left out when
 * {@code ffn_hidden_size} is 0. Values read from YAML may be absent (null); {@link #withDefaults} fills them in.
 * <b>A resolved config has no absent value except those that do not apply to it.</b> The accessors of the common
 * keys ({@link #lrScale()}, ...) read {@link #common()}; the rules below hold for every kind, the constraint being
 * declared here.
 */
@Doc(rules = {
    "ffn_hidden_size is given when 4 x hidden_size does not fit a 32-bit integer",
    "lora.per_use needs shared_weights: true",
    "lora.targets names at least one linear layer, each one the kind has (read from its parameter layout, plugin kinds too)"})
@ValidCommonBlockKeys
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "kind")
public interface BlockConfig {

  /**
   * The keys every block has, declared, bounded and defaulted once in {@link CommonBlockKeys}; YAML writes them
   * flat, beside the kind's own keys. Never null in a bound or resolved block.
   */
  @JsonUnwrapped
  CommonBlockKeys common();

  /** When true every use of the block shares one set of parameters (default false). */
  default Boolean sharedWeights() {
    return common().sharedWeights();
  }

  /** The residual width; optional, must agree with the model's. */
  default Integer hiddenSize() {
    return common().hiddenSize();
  }

  /** The block's two pre-norms (default: the model's normalization). */
  default NormalizationConfig normalization() {
    return common().normalization();
  }

  /** MLP inner width (default 4 x hidden; 0 leaves the MLP out). */
  default Integer ffnHiddenSize() {
    return common().ffnHiddenSize();
  }

  /** Gated MLP (layer_1 twice as wide, default false). */
  default Boolean gated() {
    return common().gated();
  }

  /** MLP activation (default silu when gated, else gelu). */
  default Activation activation() {
    return common().activation();
  }

  /** Learning-rate multiplier (default 1; 0 freezes the block). */
  default Double lrScale() {
    return common().lrScale();
  }

  /** Dropout after the mixer and the MLP (default 0). */
  default Double dropout() {
    return common().dropout();
  }

  /** Low-rank adapters, or null for none. */
  default LoraConfig lora() {
    return common().lora();
  }

  /** Whether the block's linear layers carry biases (the default depends on the kind). */
  default Boolean addLinearBiases() {
    return common().addLinearBiases();
  }

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

  @JsonIgnore
  default String kind() {
    return kindOf(getClass());
  }

  /** Whether the resolved block shares its weights across uses. */
  @JsonIgnore
  default boolean isShared() {
    return Boolean.TRUE.equals(sharedWeights());
  }
}
