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
 * // given Module mixer, Tensor x, Adapters adapters
 * Linear query = mixer.register_module("query", Linear.kaiming("query", 1024, 1024, true));
 * Tensor q = query.forward(x, adapters);
 * }</pre>
 */
public final class Linear extends Module {
  private final String target;
  private final Tensor weight;
  private final Tensor bias;
  /** The weight in bfloat16, kept by the optimizer, read in place of the weight under CUDA autocast; or null. */
  private Tensor copy;

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
    Tensor w = copy != null && input.is_cuda() && torch.is_autocast_enabled(torch.DeviceType.CUDA) ? copy : weight;
    Tensor out = bias == null ? torch.linear(input, w) : torch.linear(input, w, new TensorOptional(bias));
    return adapters.adapt(target, input, out);
  }

  /**
   * Reads {@code copy} (the weight's values in bfloat16, a leaf tensor whose gradient the optimizer takes for the
   * weight's) in place of the weight in products under CUDA autocast, which would otherwise cast the weight to
   * bfloat16 at every forward and the bfloat16 gradient back to float32 at every backward; null stops. Whoever sets
   * it keeps it equal to the weight rounded to bfloat16.
   */
  public void useCopy(Tensor copy) {
    this.copy = copy;
  }

  /** The bfloat16 copy in use, or null. */
  public Tensor copy() {
    return copy;
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
