package org.fastllm.dsl.config;

import jakarta.validation.constraints.Positive;
import org.fastllm.dsl.Doc;

/**
 * A normalization layer: {@code {type: layer_norm | rms_norm, epsilon: 1e-5}}.
 *
 * <p>layer_norm has a weight and a bias of the hidden size, rms_norm a weight only.
 */
public record NormalizationConfig(
    @Doc("layer_norm has a weight and a bias, rms_norm a weight only") NormType type,
    @Doc("added to the variance before its square root") @Positive(message = "must be greater than 0") Double epsilon) {

  public static final NormalizationConfig DEFAULT = new NormalizationConfig(NormType.LAYER_NORM, 1e-5);

  /** This config with absent values taken from {@code fallback}. */
  public NormalizationConfig orElse(NormalizationConfig fallback) {
    return new NormalizationConfig(
        type != null ? type : fallback.type(), epsilon != null ? epsilon : fallback.epsilon());
  }
}
