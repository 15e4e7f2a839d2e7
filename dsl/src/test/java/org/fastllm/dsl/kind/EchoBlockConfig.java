package org.fastllm.dsl.kind;

import org.fastllm.dsl.Block;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;

/** A test-only block kind with no keys of its own, for registry tests that must not depend on a real kind. */
@Block(kind = "echo", description = "returns its input; tests only")
record EchoBlockConfig(Boolean sharedWeights, Integer hiddenSize, NormalizationConfig normalization,
    Integer ffnHiddenSize, Boolean gated, Activation activation, Double lrScale, Double dropout, LoraConfig lora,
    Boolean addLinearBiases) implements BlockConfig {

  @Override
  public BlockConfig withDefaults(ModelDefaults defaults) {
    return this;
  }
}
