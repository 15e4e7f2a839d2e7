package org.fastllm.modules.layer;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * Registers parameters so that the Java field stays valid.
 *
 * <pre>{@code
 * // given Module layer
 * Tensor weight = Parameters.register(layer, "weight", ParameterInit.zeros(4));
 * }</pre>
 *
 * <p><b>Returns the tensor handed in, never the one {@code register_parameter} returns:</b> that one wraps a C++
 * reference into the module's parameter dictionary, which moves when the next parameter is registered, and using it
 * afterwards crashes the JVM. Both handles share one TensorImpl, so {@code module.to(dtype)} reaches either.
 */
public final class Parameters {
  private Parameters() {}

  public static Tensor register(Module module, String name, Tensor tensor) {
    module.register_parameter(name, tensor);
    return tensor;
  }
}
