package org.fastllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.fastllm.dsl.config.ConfigDocument;

/**
 * What a resume changes in the run sections ({@code data}, {@code optimizer}, {@code training}, {@code checkpoint})
 * against the checkpoint's resolved config, and which of those changes break an exact resume.
 *
 * <p>Harmless are the settings that change when or where the run reports and saves, or how fast it computes:
 * {@code training.steps} when it grows, the log and eval intervals, {@code training.device},
 * {@code training.kernels}, {@code training.output_dir} and the checkpoint interval and count. Every other run
 * setting (batch, sequence length, seed, data, precision, the optimizer and its schedule) would make the resumed
 * run train differently from the run the checkpoint belongs to.
 */
final class ResumeChanges {
  private static final List<String> SECTIONS = List.of("data", "optimizer", "training", "checkpoint");
  private static final Set<String> HARMLESS = Set.of("training.steps", "training.log_interval",
      "training.eval_interval", "training.device", "training.output_dir", "checkpoint.interval", "checkpoint.keep");
  private static final String KERNELS = "training.kernels.";

  /** One setting whose value differs from the checkpoint's. */
  record Change(String key, String now, String then, boolean breaksExactResume) {
    String render() {
      return "warning: " + key + " is " + now + ", the checkpoint's run used " + then;
    }
  }

  private ResumeChanges() {
  }

  /** The settings of {@code now} that differ from {@code then}, in the order of the sections and their keys. */
  static List<Change> between(ConfigDocument then, ConfigDocument now, ObjectMapper mapper) {
    Map<String, String> before = leaves(then, mapper);
    Map<String, String> after = leaves(now, mapper);
    List<Change> changes = new ArrayList<>();
    after.forEach((key, value) -> {
      String old = before.getOrDefault(key, "unset");
      if (!old.equals(value)) {
        changes.add(new Change(key, value, old, !HARMLESS.contains(key) && !key.startsWith(KERNELS)));
      }
    });
    before.forEach((key, old) -> {
      if (!after.containsKey(key)) {
        changes.add(new Change(key, "unset", old, !HARMLESS.contains(key) && !key.startsWith(KERNELS)));
      }
    });
    return changes;
  }

  /**
   * The refusal of a target at or below the checkpoint's step, which would train nothing (and report negative
   * counts).
   */
  static Optional<String> nothingLeft(int steps, long checkpointStep, Object folder) {
    if (steps > checkpointStep) {
      return Optional.empty();
    }
    return Optional.of("training.steps is " + steps + ", but checkpoint " + folder + " is at step " + checkpointStep
        + ": nothing left to train; set training.steps above " + checkpointStep);
  }

  private static Map<String, String> leaves(ConfigDocument document, ObjectMapper mapper) {
    JsonNode tree = mapper.valueToTree(document);
    Map<String, String> leaves = new LinkedHashMap<>();
    for (String section : SECTIONS) {
      flatten(section, tree.path(section), leaves);
    }
    return leaves;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> into) {
    if (node.isMissingNode() || node.isNull()) {
      return;
    }
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> field : node.properties()) {
        flatten(prefix + "." + field.getKey(), field.getValue(), into);
      }
    } else {
      into.put(prefix, node.isTextual() ? node.asText() : node.toString());
    }
  }
}
