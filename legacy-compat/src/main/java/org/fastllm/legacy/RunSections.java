package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * The parts of a Fast-LLM training file that are not the model: top-level sections such as {@code optimizer},
 * {@code batch}, {@code training}, {@code data}, {@code run} and {@code pretrained}, and the model's
 * {@code distributed} and {@code multi_stage} settings.
 *
 * <pre>{@code
 * optimizer: {learning_rate: {base: 3e-4}}   ->  optimizer: {learning_rate: 3.0E-4, weight_decay: 0.01, ...}
 * batch: {micro_batch_size: 4, batch_size: 16} ->  training: {batch_size: 4, gradient_accumulation: 4}
 * }</pre>
 *
 * <p><b>Keys with an equivalent are written in the new sections, with one warning per legacy section naming the
 * new keys; every other key is named in its own warning and left out.</b> A mapped {@code optimizer} or
 * {@code batch} section gets Fast-LLM's defaults for the keys it leaves out (weight decay 0.01, beta_2 0.999,
 * constant learning rate 1e-4, sequence length 2048, micro-batch 1), not this tool's.
 */
final class RunSections {
  /** Settings of Fast-LLM's {@code model} level beside {@code base_model}, with what they are about. */
  static final Map<String, String> MODEL_LEVEL = Map.of(
      "distributed", "a Fast-LLM distributed setting: parallelism, seeds, dtypes",
      "multi_stage", "a Fast-LLM multi-stage setting: ZeRO stage, buffers, pipeline stages");
  /** Legacy path to new path, for values that carry over unchanged. */
  private static final Map<String, String> RENAMED = new LinkedHashMap<>();
  /** Fast-LLM's defaults of the mapped optimizer and batch keys, by new path. */
  private static final Map<String, Object> FAST_LLM_DEFAULTS = new LinkedHashMap<>();
  private static final Set<String> SCHEDULES = Set.of("constant", "cosine", "linear");

  static {
    RENAMED.put("training.train_iters", "training.steps");
    RENAMED.put("training.logs.interval", "training.log_interval");
    RENAMED.put("training.validation.interval", "training.eval_interval");
    RENAMED.put("training.validation.iterations", "training.eval_batches");
    RENAMED.put("training.checkpoint.interval", "checkpoint.interval");
    RENAMED.put("training.checkpoint.keep", "checkpoint.keep");
    RENAMED.put("optimizer.learning_rate.base", "optimizer.learning_rate");
    RENAMED.put("optimizer.learning_rate.minimum", "optimizer.min_learning_rate");
    RENAMED.put("optimizer.learning_rate.warmup_iterations", "optimizer.warmup_steps");
    RENAMED.put("optimizer.weight_decay", "optimizer.weight_decay");
    RENAMED.put("optimizer.beta_1", "optimizer.beta1");
    RENAMED.put("optimizer.beta_2", "optimizer.beta2");
    RENAMED.put("optimizer.epsilon", "optimizer.epsilon");
    RENAMED.put("optimizer.gradient_norm_clipping", "optimizer.grad_clip");
    RENAMED.put("batch.sequence_length", "training.sequence_length");
    RENAMED.put("batch.micro_batch_size", "training.batch_size");
    RENAMED.put("run.experiment_dir", "training.output_dir");
    RENAMED.put("model.distributed.seed", "training.seed");
    FAST_LLM_DEFAULTS.put("optimizer.learning_rate", 1e-4);
    FAST_LLM_DEFAULTS.put("optimizer.min_learning_rate", 0.0);
    FAST_LLM_DEFAULTS.put("optimizer.warmup_steps", 0);
    FAST_LLM_DEFAULTS.put("optimizer.schedule", "constant");
    FAST_LLM_DEFAULTS.put("optimizer.weight_decay", 0.01);
    FAST_LLM_DEFAULTS.put("optimizer.beta1", 0.9);
    FAST_LLM_DEFAULTS.put("optimizer.beta2", 0.999);
    FAST_LLM_DEFAULTS.put("optimizer.epsilon", 1e-8);
    FAST_LLM_DEFAULTS.put("optimizer.grad_clip", 1.0);
    FAST_LLM_DEFAULTS.put("training.sequence_length", 2048);
    FAST_LLM_DEFAULTS.put("training.batch_size", 1);
  }

  private RunSections() {}

  static void warn(Translation translation, JsonNode root) {
    List<String> keys = new ArrayList<>();
    root.fieldNames().forEachRemaining(keys::add);
    for (String key : keys) {
      if (!key.equals("model")) {
        section(translation, key, root.get(key));
      }
    }
    MODEL_LEVEL.keySet().stream().sorted().forEach(section -> modelLevel(translation, section));
  }

  private static void section(Translation translation, String section, JsonNode node) {
    List<String> mapped = new ArrayList<>();
    if (node != null && node.isObject() && !node.isEmpty()) {
      leaves(section, node, (path, value) -> map(translation, path, value, mapped));
    }
    if (section.equals("optimizer") || section.equals("batch")) {
      String prefix = section.equals("optimizer") ? "optimizer." : "training.";
      FAST_LLM_DEFAULTS.forEach((path, value) -> {
        if (path.startsWith(prefix) && translation.root().at("/" + path.replace('.', '/')).isMissingNode()) {
          translation.put(path, number(value), section);
        }
      });
    }
    if (!mapped.isEmpty()) {
      translation.warn(section, "the '" + section + "' section of a Fast-LLM training file is deprecated; mapped to "
          + String.join(", ", mapped) + " (write those keys instead)");
    } else if (node == null || !node.isObject() || node.isEmpty()) {
      translation.warn(section, "the '" + section + "' section of a Fast-LLM training file has no equivalent in this"
          + " tool; ignored");
    }
  }

  private static JsonNode number(Object value) {
    if (value instanceof Integer i) {
      return Translation.NODES.numberNode(i);
    }
    if (value instanceof Double d) {
      return Translation.NODES.numberNode(d);
    }
    return Translation.NODES.textNode(value.toString());
  }

  private static void map(Translation translation, String path, JsonNode value, List<String> mapped) {
    String target = RENAMED.get(path);
    if (target != null) {
      translation.put(target, value, path);
      mapped.add(path + " -> " + target);
    } else if (path.equals("optimizer.learning_rate.decay_style")) {
      String style = value.asText();
      boolean known = SCHEDULES.contains(style);
      translation.put("optimizer.schedule", Translation.NODES.textNode(known ? style : "cosine"), path);
      mapped.add(path + " -> optimizer.schedule");
      if (!known) {
        translation.warn(path, "'" + style + "' has no equivalent in this tool (constant, linear, cosine); written as"
            + " cosine");
      }
    } else if (path.equals("batch.batch_size")) {
      batchSize(translation, path, value, mapped);
    } else {
      translation.warn(path, "has no equivalent in this tool; ignored");
    }
  }

  /** Fast-LLM's batch_size counts sequences per step; here a step is batch_size x gradient_accumulation. */
  private static void batchSize(Translation translation, String path, JsonNode value, List<String> mapped) {
    JsonNode micro = translation.legacyNode("batch.micro_batch_size");
    long perMicro = micro != null && micro.canConvertToLong() ? micro.asLong() : 1;
    if (!value.canConvertToLong() || perMicro < 1 || value.asLong() % perMicro != 0) {
      translation.error(path, "batch_size " + value.asText() + " is not a whole multiple of micro_batch_size "
          + perMicro + ", so it has no gradient accumulation equivalent");
      return;
    }
    translation.put("training.gradient_accumulation", Translation.NODES.numberNode(value.asLong() / perMicro), path);
    mapped.add(path + " -> training.gradient_accumulation (batch_size / micro_batch_size)");
  }

  private static void leaves(String path, JsonNode node, java.util.function.BiConsumer<String, JsonNode> visit) {
    if (node.isObject() && !node.isEmpty() && !RENAMED.containsKey(path)) {
      node.properties().forEach(e -> leaves(ConfigPath.key(path, e.getKey()), e.getValue(), visit));
    } else {
      visit.accept(path, node);
    }
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
    node.fieldNames().forEachRemaining(key -> {
      String child = ConfigPath.key(path, key);
      String target = RENAMED.get(child);
      if (target != null) {
        translation.put(target, node.get(key), child);
        translation.warn(child, "is deprecated here; mapped to " + target);
      } else {
        translation.warn(child, "has no equivalent in this tool; ignored (" + reason + ")");
      }
    });
  }
}
