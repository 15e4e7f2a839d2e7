package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/**
 * An enum written in YAML as its lower-case name ({@code squared_relu} for {@code SQUARED_RELU}).
 *
 * <p><b>Readers accept exactly {@link #yamlName()}; writers write exactly it.</b>
 */
public interface YamlEnum {
  String name();

  @JsonValue
  default String yamlName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
