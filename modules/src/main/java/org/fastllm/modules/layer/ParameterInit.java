package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * How new parameters start, following Fast-LLM's initialisers: normal with a given std, uniform around zero,
 * constants. Tensors are float32 on the CPU; a built model can be moved with {@code module.to(...)}.
 *
 * <pre>{@code Tensor w = ParameterInit.normal(0.02, 1024, 1024);}</pre>
 */
public final class ParameterInit {
  private ParameterInit() {}

  /** Normal values with mean 0 and the given standard deviation. */
  public static Tensor normal(double std, long... shape) {
    return torch.empty(shape).normal_(0.0, std, new org.bytedeco.pytorch.GeneratorOptional());
  }

  /** Uniform values in {@code [-bound, bound]}. */
  public static Tensor uniform(double bound, long... shape) {
    return torch.empty(shape).uniform_(-bound, bound, new org.bytedeco.pytorch.GeneratorOptional());
  }

  public static Tensor zeros(long... shape) {
    return torch.zeros(shape);
  }

  public static Tensor ones(long... shape) {
    return torch.ones(shape);
  }

  /** Fast-LLM's {@code init_kaiming_(fanIn)}: normal with std {@code fanIn^-1/2}. */
  public static Tensor kaiming(long fanIn, long... shape) {
    return normal(1.0 / Math.sqrt(fanIn), shape);
  }
}
