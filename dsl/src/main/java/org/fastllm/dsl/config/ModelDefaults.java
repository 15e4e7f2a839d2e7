package org.fastllm.dsl.config;

/**
 * What a block inherits from its model when it leaves a key out: the residual width and the normalization.
 *
 * <pre>{@code
 * // given BlockConfig block
 * block.withDefaults(new ModelDefaults(1024, NormalizationConfig.DEFAULT))
 * }</pre>
 */
public record ModelDefaults(int hiddenSize, NormalizationConfig normalization) {}
