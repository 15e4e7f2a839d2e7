package org.fastllm.dsl.layout;

import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Parameters of a transformer block: query {@code [heads*head_size, H]}, fused key_value
 * {@code [2*head_groups*head_size, H]}, dense {@code [H, heads*head_size]}, each with a bias when
 * {@code add_linear_biases}, around the common norms and MLP.
 */
public final class TransformerLayout implements ParameterLayout<TransformerBlockConfig> {

  @Override
  public List<TensorSpec> tensors(TransformerBlockConfig c) {
    long hidden = c.hiddenSize();
    long queries = Math.multiplyExact((long) c.numHeads(), c.headSize());
    long keyValues = Math.multiplyExact(2L * c.headGroups(), c.headSize());
    boolean biases = c.addLinearBiases();
    List<TensorSpec> mixer = new ArrayList<>();
    mixer.addAll(BlockTensors.linear("mixer.query", queries, hidden, biases));
    mixer.addAll(BlockTensors.linear("mixer.key_value", keyValues, hidden, biases));
    mixer.addAll(BlockTensors.linear("mixer.dense", hidden, queries, biases));
    return BlockTensors.around(c, mixer);
  }
}
