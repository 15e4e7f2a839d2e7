package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * A value written in YAML as {@code auto} or a positive whole number ({@code dt_rank}, {@code scan_segments}).
 *
 * <pre>{@code dt_rank: auto      scan_segments: 4}</pre>
 *
 * <p><b>Readers accept exactly {@code auto} or a whole number; writers write the same.</b> Schema, reference and
 * shape checks treat every implementation alike.
 */
public interface AutoOrCount {
  /** The number, or null for {@code auto}. */
  Integer value();

  @JsonIgnore
  default boolean isAuto() {
    return value() == null;
  }

  @JsonValue
  default Object yamlValue() {
    return isAuto() ? "auto" : value();
  }
}
