package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Fast-LLM's {@code transformer.normalization}, which became the model's {@code normalization}: the default of
 * every block (Fast-LLM's mamba blocks used it too) and the final norm.
 *
 * <pre>{@code transformer: {normalization: {type: rms_norm, epsilon: 1e-6}}  ->  model.normalization: {type: rms_norm, epsilon: 1e-6}}</pre>
 *
 * <p>Defaults as in Fast-LLM: {@code layer_norm}, epsilon {@code 1e-5}.
 */
final class NormalizationSection {
  static final String DEFAULT_TYPE = "layer_norm";
  static final double DEFAULT_EPSILON = 1e-5;
  private static final Map<String, String> UNMAPPED = Map.of(
      "zero_centered", "a re-parametrisation of the weight; the parameter count is the same",
      "zero_centered_normalization", "a re-parametrisation of the weight; the parameter count is the same",
      "implementation", "a kernel choice",
      "normalization_implementation", "a kernel choice",
      "initialization_range", "an initialisation setting",
      "layer_norm_init_range", "an initialisation setting");

  private NormalizationSection() {}

  /** Writes {@code model.normalization} from the section at {@code path}. */
  static void translate(Translation translation, String path) {
    LegacySection section = new LegacySection(translation, path);
    if (section.exists()) {
      translation.warn(path, "moved to model.normalization (the default of every block, and the final norm)");
    }
    ObjectNode norm = Translation.NODES.objectNode();
    norm.put("type", DEFAULT_TYPE);
    norm.put("epsilon", DEFAULT_EPSILON);
    translation.put("model.normalization", norm, path);
    type(translation, section, renamed(translation, section, "type", "normalization_type"));
    JsonNode epsilon = renamed(translation, section, "epsilon", "layer_norm_eps");
    if (epsilon != null) {
      translation.put("model.normalization.epsilon", epsilon, section.path(section.has("epsilon") ? "epsilon" : "layer_norm_eps"));
    }
    section.reportRest("normalization", UNMAPPED);
  }

  private static void type(Translation translation, LegacySection section, JsonNode type) {
    if (type == null) {
      translation.put("model.normalization.type", Translation.NODES.textNode(DEFAULT_TYPE), section.path());
      return;
    }
    String at = section.path(section.has("type") ? "type" : "normalization_type");
    if (type.isTextual() && type.asText().equals("none")) {
      translation.warn(at, "'none' (no normalization) has no equivalent in this tool; written as " + DEFAULT_TYPE);
      return;
    }
    translation.put("model.normalization.type", type, at);
  }

  /** The value of {@code key}, or of its pre-2025 name {@code oldKey} (with a warning naming the new one). */
  private static JsonNode renamed(Translation translation, LegacySection section, String key, String oldKey) {
    JsonNode value = section.take(key);
    JsonNode old = section.take(oldKey);
    if (old != null) {
      translation.warn(section.path(oldKey), "renamed to " + key + " in model.normalization");
    }
    return value != null ? value : old;
  }
}
