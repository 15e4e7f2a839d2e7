package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * A linear layer {@code y = x W^T + b} with weight {@code [out, in]} and an optional bias {@code [out]}, named as
 * LoRA targets name it.
 *
 * <pre>{@code
 * Linear query = mixer.register_module("query", Linear.kaiming("query", 1024, 1024, true));
 * Tensor q = query.forward(x, adapters);
 * }</pre>
 */
public final class Linear extends Module {
  private final String target;
  private final Tensor weight;
  private final Tensor bias;

  public Linear(String target, Tensor weight, Tensor bias) {
    this.target = target;
    this.weight = Parameters.register(this, "weight", weight);
    this.bias = bias == null ? null : Parameters.register(this, "bias", bias);
  }

  /** Weight normal with std {@code in^-1/2} (Fast-LLM's kaiming init), bias zero. */
  public static Linear kaiming(String target, long out, long in, boolean bias) {
    return new Linear(target, ParameterInit.kaiming(in, out, in), bias ? ParameterInit.zeros(out) : null);
  }

  public Tensor forward(Tensor input, Adapters adapters) {
    Tensor out = bias == null ? torch.linear(input, weight) : torch.linear(input, weight, new TensorOptional(bias));
    return adapters.adapt(target, input, out);
  }

  public String target() {
    return target;
  }

  public Tensor weight() {
    return weight;
  }

  /** The bias, or null. */
  public Tensor bias() {
    return bias;
  }
}
