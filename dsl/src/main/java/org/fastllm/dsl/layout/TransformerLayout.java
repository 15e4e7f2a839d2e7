package org.fastllm.dsl.layout;

import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Parameters of a transformer block: query {@code [heads*head_size, H]}, fused key_value
 * {@code [2*head_groups*head_size, H]}, dense {@code [H, heads*head_size]}, around the common norms and MLP.
 * Query and key_value carry biases when {@code qkv_biases} (which follows {@code add_linear_biases} when absent),
 * dense when {@code add_linear_biases}.
 */
public final class TransformerLayout implements ParameterLayout<TransformerBlockConfig> {

  @Override
  public List<TensorSpec> tensors(TransformerBlockConfig c) {
    long hidden = c.hiddenSize();
    long queries = Math.multiplyExact((long) c.numHeads(), c.headSize());
    long keyValues = Math.multiplyExact(2L * c.headGroups(), c.headSize());
    boolean biases = c.addLinearBiases();
    boolean qkv = c.queryKeyValueBiases();
    List<TensorSpec> mixer = new ArrayList<>();
    mixer.addAll(BlockTensors.linear("mixer.query", queries, hidden, qkv));
    mixer.addAll(BlockTensors.linear("mixer.key_value", keyValues, hidden, qkv));
    mixer.addAll(BlockTensors.linear("mixer.dense", hidden, queries, biases));
    return BlockTensors.around(c, mixer);
  }
}
