package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.fastllm.dsl.problem.Suggestions;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * One mapping of a legacy file (a {@code transformer:} or {@code ssm:} section, say) whose keys are read one by
 * one; {@link #reportRest} then names every key nobody read.
 *
 * <p><b>No key of a section is dropped silently:</b> a key Fast-LLM knew but this tool cannot express becomes a
 * warning, a key Fast-LLM did not know becomes an error with a "did you mean".
 */
final class LegacySection {
  private final Translation translation;
  private final String path;
  private final JsonNode node;
  private final Set<String> read = new HashSet<>();

  LegacySection(Translation translation, String path) {
    this.translation = translation;
    this.path = path;
    JsonNode found = translation.legacyNode(path);
    if (found != null && !found.isObject() && !found.isNull()) {
      translation.error(path, "expected a mapping of keys, got " + found.getNodeType().name().toLowerCase());
    }
    this.node = found != null && found.isObject() ? found : NullNode.getInstance();
  }

  boolean exists() {
    return translation.legacyNode(path) != null;
  }

  String path() {
    return path;
  }

  String path(String key) {
    return ConfigPath.key(path, key);
  }

  boolean has(String key) {
    return node.has(key);
  }

  /** The value written for {@code key} (null when absent), marking it read. */
  JsonNode take(String key) {
    read.add(key);
    JsonNode value = node.get(key);
    return value == null || value.isNull() ? null : value;
  }

  /** The key's whole-number value, or empty when absent or not a whole number that fits an int. */
  OptionalInt takeInt(String key) {
    JsonNode value = take(key);
    return value != null && value.isIntegralNumber() && value.canConvertToInt()
        ? OptionalInt.of(value.intValue())
        : OptionalInt.empty();
  }

  Optional<Boolean> takeBoolean(String key) {
    JsonNode value = take(key);
    return value != null && value.isBoolean() ? Optional.of(value.booleanValue()) : Optional.empty();
  }

  Set<String> keys() {
    Set<String> keys = new LinkedHashSet<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }

  /**
   * Warns about every unread key listed in {@code unmapped} (with the reason given there) and reports every other
   * unread key as unknown to Fast-LLM's {@code label} section.
   */
  void reportRest(String label, Map<String, String> unmapped) {
    for (String key : keys()) {
      if (read.contains(key)) {
        continue;
      }
      String reason = unmapped.get(key);
      if (reason != null) {
        translation.warn(path(key), "has no equivalent in this tool; ignored" + (reason.isEmpty() ? "" : " (" + reason + ")"));
      } else {
        List<String> known = new java.util.ArrayList<>(unmapped.keySet());
        known.addAll(read);
        translation.error(path(key), "unknown key in Fast-LLM's " + label + " section"
            + Suggestions.didYouMean(key, known));
      }
    }
  }
}
