package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;

/**
 * A whole config file: today its {@code model} section.
 *
 * <pre>{@code ConfigDocument doc = loader.load(Path.of("model.yaml")).document();}</pre>
 */
public record ConfigDocument(@NotNull(message = "is required: a config file starts with 'model:'") @Valid ModelConfig model) {

  public ConfigDocument withDefaults() {
    return new ConfigDocument(model == null ? null : model.withDefaults());
  }
}
