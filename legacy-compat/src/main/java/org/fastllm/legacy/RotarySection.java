package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Fast-LLM's rotary settings of the transformer: the {@code rotary:} section and the older flat keys
 * {@code use_rotary_embeddings} and {@code rotary_embedding_scale}.
 *
 * <pre>{@code transformer: {rotary: {type: default, theta: 500000}}  ->  rotary: {type: default, theta: 500000.0}}</pre>
 *
 * <p><b>Without a rotary section Fast-LLM used no rotary embedding at all</b> (type {@code none}), and then learned
 * absolute position embeddings instead; this tool's own default is rotary, so the migrated block says
 * {@code type: none} explicitly.
 */
final class RotarySection {
  static final double DEFAULT_THETA = 10000.0;
  private static final Map<String, String> UNMAPPED = Map.of(
      "triton", "a kernel and weight-layout choice; the parameter count is the same",
      "scale_factor", "rotary frequency scaling",
      "low_frequency_factor", "rotary frequency scaling",
      "high_frequency_factor", "rotary frequency scaling",
      "original_context_length", "rotary frequency scaling",
      "attention_factor", "rotary frequency scaling",
      "beta_fast", "rotary frequency scaling",
      "beta_slow", "rotary frequency scaling");

  private final boolean enabled;
  private final ObjectNode config;
  private final String location;

  private RotarySection(boolean enabled, ObjectNode config, String location) {
    this.enabled = enabled;
    this.config = config;
    this.location = location;
  }

  /** Reads the rotary settings of the transformer section {@code transformer}. */
  static RotarySection read(Translation translation, LegacySection transformer, String blockName) {
    LegacySection rotary = new LegacySection(translation, transformer.path("rotary"));
    transformer.take("rotary");
    JsonNode type = rotary.take("type");
    JsonNode theta = rotary.take("theta");
    String location = rotary.exists() ? rotary.path() : transformer.path();
    JsonNode flag = transformer.take("use_rotary_embeddings");
    if (flag != null) {
      translation.warn(transformer.path("use_rotary_embeddings"),
          "renamed to rotary.type (default or none) in block '" + blockName + "'");
      if (type == null && flag.isBoolean()) {
        type = Translation.NODES.textNode(flag.booleanValue() ? "default" : "none");
        location = transformer.path("use_rotary_embeddings");
      }
    }
    JsonNode scale = transformer.take("rotary_embedding_scale");
    if (scale != null) {
      translation.warn(transformer.path("rotary_embedding_scale"),
          "renamed to rotary.theta (theta = exp(-rotary_embedding_scale)) in block '" + blockName + "'");
      if (theta == null && scale.isNumber()) {
        theta = Translation.NODES.numberNode(Math.exp(-scale.doubleValue()));
      }
    }
    JsonNode triton = transformer.take("triton_rotary");
    if (triton != null) {
      translation.warn(transformer.path("triton_rotary"), "has no equivalent in this tool; ignored (a kernel and"
          + " weight-layout choice; the parameter count is the same)");
    }
    String kind = type == null ? "none" : type.asText();
    if (!java.util.Set.of("none", "default", "llama3", "yarn").contains(kind)) {
      translation.error(rotary.path("type"), "unknown rotary type '" + kind + "' (Fast-LLM knew: none, default, llama3, yarn)");
    }
    ObjectNode config = Translation.NODES.objectNode();
    boolean enabled = !kind.equals("none");
    config.put("type", enabled ? "default" : "none");
    if (enabled) {
      config.set("theta", theta != null ? theta : Translation.NODES.numberNode(DEFAULT_THETA));
      if (!kind.equals("default")) {
        translation.warn(rotary.path("type"), "rotary type '" + kind + "' (frequency scaling) has no equivalent in"
            + " this tool; written as type: default with the same theta");
      }
    }
    rotary.reportRest("rotary", UNMAPPED);
    return new RotarySection(enabled, config, location);
  }

  /** Whether queries and keys are rotated; when not, Fast-LLM learned absolute position embeddings by default. */
  boolean enabled() {
    return enabled;
  }

  void write(Translation translation, String blockPath) {
    translation.put(blockPath + ".rotary", config, location);
  }
}
