package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * The parts of a Fast-LLM training file that are not the model: top-level sections such as {@code optimizer},
 * {@code batch}, {@code training}, {@code data}, {@code run} and {@code pretrained}, and the model's
 * {@code distributed} and {@code multi_stage} settings.
 *
 * <pre>{@code optimizer: {learning_rate: {base: 3e-4}}  ->  warning: optimizer: ... not used by this tool yet ...}</pre>
 *
 * <p><b>Each is named in a warning and left out of the migrated tree</b>: top-level sections one warning each
 * (listing their keys), distributed and multi-stage settings one warning per key.
 */
final class RunSections {
  /** Settings of Fast-LLM's {@code model} level beside {@code base_model}, with what they are about. */
  static final Map<String, String> MODEL_LEVEL = Map.of(
      "distributed", "a Fast-LLM distributed setting: parallelism, seeds, dtypes",
      "multi_stage", "a Fast-LLM multi-stage setting: ZeRO stage, buffers, pipeline stages");

  private RunSections() {}

  static void warn(Translation translation, JsonNode root) {
    List<String> keys = new ArrayList<>();
    root.fieldNames().forEachRemaining(keys::add);
    for (String key : keys) {
      if (!key.equals("model")) {
        translation.warn(key, "the '" + key + "' section of a Fast-LLM training file is not used by this tool yet"
            + keyList(root.get(key)) + "; it will be mapped by train");
      }
    }
    MODEL_LEVEL.keySet().stream().sorted().forEach(section -> modelLevel(translation, section));
  }

  private static void modelLevel(Translation translation, String section) {
    String path = ConfigPath.key("model", section);
    JsonNode node = translation.legacyNode(path);
    if (node == null) {
      return;
    }
    String reason = MODEL_LEVEL.get(section);
    if (!node.isObject() || node.isEmpty()) {
      translation.warn(path, "has no equivalent in this tool; ignored (" + reason + ")");
      return;
    }
    node.fieldNames().forEachRemaining(key ->
        translation.warn(ConfigPath.key(path, key), "has no equivalent in this tool; ignored (" + reason + ")"));
  }

  private static String keyList(JsonNode section) {
    if (section == null || !section.isObject() || section.isEmpty()) {
      return "";
    }
    List<String> keys = new ArrayList<>();
    section.fieldNames().forEachRemaining(keys::add);
    return " (keys: " + String.join(", ", keys) + ")";
  }
}
