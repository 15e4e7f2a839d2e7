package org.fastllm.dsl.count;

/**
 * One layer of the stack and what it computes with.
 *
 * @param parameters the block's parameters (one instance, without LoRA)
 * @param lora adapter parameters this layer adds
 */
public record LayerCount(int index, String blockName, String kind, boolean shared, int use, long parameters, long lora) {}
