package org.fastllm.dsl.reference;

import org.fastllm.dsl.Doc;

/**
 * One key of a config section as the reference lists it.
 *
 * <pre>{@code ReferenceKey k = SectionKeys.of(TrainingConfig.class).get(0);  // steps, integer, 300, >= 1, ...}</pre>
 *
 * @param key the YAML key
 * @param type what the value is: integer, number, boolean, string, a section, a list or map
 * @param defaultText the default as a reader should see it: {@link #documentedDefault} when given, else
 *     {@link #derivedDefault}, else {@code required} or a dash
 * @param allowed enum values and bounds, or empty
 * @param description what the key means, from {@link Doc}
 * @param documentedDefault the default written in {@link Doc#defaultValue()}, or empty
 * @param derivedDefault what {@code withDefaults} gives an empty section, rendered; empty when it gives nothing
 * @param section the record type of a nested section, or null
 */
public record ReferenceKey(String key, String type, String defaultText, String allowed, String description,
    String documentedDefault, String derivedDefault, Class<?> section) {

  /**
   * The literal at the start of the documented default ({@code "32"} of {@code "32 (discrete_mamba2 only)"}), or
   * empty when the documented default is words ({@code "4 x hidden_size"}).
   */
  public String documentedLiteral() {
    String head = documentedDefault.contains(" (")
        ? documentedDefault.substring(0, documentedDefault.indexOf(" (")) : documentedDefault;
    boolean literal = head.matches("-?[0-9][0-9.e+-]*") || head.equals("true") || head.equals("false");
    return literal ? head : "";
  }
}
