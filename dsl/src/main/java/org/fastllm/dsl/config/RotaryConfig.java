package org.fastllm.dsl.config;

import jakarta.validation.constraints.Positive;
import org.fastllm.dsl.Doc;

/** Rotary position embedding of queries and keys: {@code {type: none | default, theta: 10000}}. */
public record RotaryConfig(
    @Doc("none turns rotary embeddings off") RotaryType type,
    @Doc("base of the rotary frequencies") @Positive(message = "must be greater than 0") Double theta) {

  public static final RotaryConfig DEFAULT = new RotaryConfig(RotaryType.DEFAULT, 10000.0);

  public RotaryConfig withDefaults() {
    return new RotaryConfig(type != null ? type : DEFAULT.type(), theta != null ? theta : DEFAULT.theta());
  }

  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean enabled() {
    return type != RotaryType.NONE;
  }
}
