package org.fastllm.dsl.reference;

import java.math.BigDecimal;
import java.util.List;
import java.util.stream.Collectors;
import org.fastllm.dsl.config.AutoOrCount;
import org.fastllm.dsl.config.YamlEnum;

/**
 * A config value as it would be written in YAML: {@code 1e-8}, {@code 0.05}, {@code layer_norm}, {@code [a, b]}.
 *
 * <pre>{@code ValueText.of(1.0e-8)  // "1e-8"}</pre>
 */
final class ValueText {
  private ValueText() {}

  static String of(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof Double d) {
      if (d != 0 && Math.abs(d) < 1e-3) {
        return Double.toString(d).replace(".0E", "E").replace('E', 'e');  // 1e-8, as YAML files write it
      }
      return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }
    if (value instanceof YamlEnum e) {
      return e.yamlName();
    }
    if (value instanceof AutoOrCount rank) {
      return String.valueOf(rank.yamlValue());
    }
    if (value instanceof List<?> list) {
      return list.stream().map(ValueText::of).collect(Collectors.joining(", ", "[", "]"));
    }
    if (value instanceof Record) {
      return "";
    }
    return value.toString();
  }
}
