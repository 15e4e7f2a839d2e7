package org.fastllm.modules.mlp;

import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Split;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * The feed-forward part of every block: {@code layer_2(act(layer_1(x)))}, or, when gated,
 * {@code layer_2(act(gate) * up)} with {@code [gate, up] = layer_1(x)} split in halves (gate first, as Fast-LLM).
 *
 * <pre>{@code
 * // given BlockConfig resolvedBlock
 * Mlp mlp = Mlp.of(resolvedBlock);  // layer_1 [(gated?2:1)*ffn, H], layer_2 [H, ffn]
 * }</pre>
 */
public final class Mlp extends SequenceLayer {
  private final Linear layer1;
  private final Linear layer2;
  private final boolean gated;
  private final Activation activation;

  public Mlp(long hidden, long ffn, boolean gated, Activation activation, boolean biases) {
    this.gated = gated;
    this.activation = activation;
    this.layer1 = linear("layer_1", Linear.kaiming("layer_1", (gated ? 2 : 1) * ffn, hidden, biases));
    this.layer2 = linear("layer_2", Linear.kaiming("layer_2", hidden, ffn, biases));
  }

  /** The MLP of a resolved block whose {@code ffn_hidden_size} is above 0. */
  public static Mlp of(BlockConfig block) {
    return new Mlp(block.hiddenSize(), block.ffnHiddenSize(), block.gated(), block.activation(),
        block.addLinearBiases());
  }

  @Override
  public Tensor forward(Tensor input, Adapters adapters) {
    Tensor inner = layer1.forward(input, adapters);
    Tensor hidden;
    if (gated) {
      long half = inner.size(-1) / 2;
      Tensor[] gateUp = Split.parts(inner, inner.dim() - 1, half, half);
      hidden = activate(gateUp[0]).mul(gateUp[1]);
    } else {
      hidden = activate(inner);
    }
    return layer2.forward(hidden, adapters);
  }

  private Tensor activate(Tensor x) {
    return apply(activation, x);
  }

  /** The activation by name; gelu is the tanh approximation Fast-LLM uses. */
  public static Tensor apply(Activation activation, Tensor x) {
    return switch (activation) {
      case SILU -> torch.silu(x);
      case GELU -> torch.gelu(x, "tanh");
      case RELU -> torch.relu(x);
      case SQUARED_RELU -> torch.relu(x).pow(new org.bytedeco.pytorch.Scalar(2));
    };
  }
}
