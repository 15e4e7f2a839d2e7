package org.fastllm.modules.stack;

import org.bytedeco.pytorch.Tensor;

/**
 * One parameter tensor of a built model, under the name of its first use.
 *
 * <pre>{@code
 * // given LanguageModel model
 * model.uniqueParameters().get(0).name()  // "embeddings.word.weight"
 * }</pre>
 *
 * @param name dotted name, e.g. {@code layers.1.mixer.query.weight}
 * @param tensor the parameter
 * @param weightDecay whether AdamW should decay it (not norms, biases, SSM state parameters, position tables)
 * @param lrScale the learning-rate multiplier of its block (1 outside blocks; 0 means frozen)
 */
public record NamedParameter(String name, Tensor tensor, boolean weightDecay, double lrScale) {

  public boolean trainable() {
    return tensor.requires_grad();
  }
}
