package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.migrate.FormatAdapter;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.yaml.YamlDocument;

/**
 * Reads the old Fast-LLM hybrid format: global {@code transformer:} and {@code ssm:} sections and a
 * {@code hybrid_block_layout}, under {@code model.base_model} as Fast-LLM wrote them or directly under
 * {@code model}, and rewrites them as named blocks with that format's own defaults written out.
 *
 * <pre>{@code
 * model:
 *   base_model:
 *     transformer: {hidden_size: 1024, num_layers: 4, num_attention_heads: 16}
 *     ssm: {state_size: 16}
 *     hybrid_block_layout: [t, m2d]
 * }</pre>
 * becomes blocks {@code transformer} and {@code discrete_mamba2}, {@code block_pattern: [transformer,
 * discrete_mamba2]} and {@code num_layers: 4}, with one warning per legacy section and renamed key.
 *
 * <p><b>Documents with neither {@code model.base_model} nor a legacy section under {@code model} are not
 * adapted (empty); a legacy document with a key Fast-LLM did not know, or a layout it rejected, is an
 * {@link org.fastllm.dsl.problem.InvalidConfigException} listing every problem, warnings included.</b>
 */
public final class LegacyFormatAdapter implements FormatAdapter {
  private static final List<String> LEGACY_SECTIONS = List.of("transformer", "ssm", "hybrid_block_layout");

  private static final List<String> NEW_KEYS = List.of("blocks", "block_pattern", "num_layers");

  /** Old sections beside new per-block keys cannot be merged safely: say so once, naming both. */
  private static void rejectMixedFormats(YamlDocument document, JsonNode model, String base) {
    JsonNode legacy = base.equals("model") ? model : model.get("base_model");
    String oldKey = LEGACY_SECTIONS.stream().filter(legacy::has).findFirst().orElse("base_model");
    for (String key : NEW_KEYS) {
      if (model.has(key)) {
        String oldPath = base.equals("model") ? "model." + oldKey : "model.base_model";
        var problem = org.fastllm.dsl.problem.Problem.error("model." + key, "the current format's '" + key
            + "' is mixed with the old format's '" + oldKey + "' (" + oldPath + "); use one format: move the old"
            + " section into model.blocks, or run 'fastllm-cli migrate' on a file holding only the old format");
        throw org.fastllm.dsl.problem.InvalidConfigException.of(document.sourceMap().place(problem));
      }
    }
  }

  @Override
  public Optional<Migration> adapt(YamlDocument document) {
    JsonNode model = document.root().get("model");
    if (model == null || !model.isObject()) {
      return Optional.empty();
    }
    String base;
    if (model.has("base_model")) {
      base = "model.base_model";
    } else if (LEGACY_SECTIONS.stream().anyMatch(model::has)) {
      base = "model";
    } else {
      return Optional.empty();
    }
    rejectMixedFormats(document, model, base);
    Translation translation = new Translation(document);
    if (base.equals("model.base_model")) {
      LegacySection modelLevel = new LegacySection(translation, "model");
      modelLevel.take("base_model");
      RunSections.MODEL_LEVEL.keySet().forEach(modelLevel::take);
      modelLevel.reportRest("model", java.util.Map.of("type", "the Fast-LLM model type; the blocks say it here"));
    }
    new LegacyModel(translation, base).translate();
    RunSections.warn(translation, document.root());
    if (translation.root().get("model") instanceof ObjectNode migrated) {
      KeyOrder.sortModel(migrated);
    }
    return Optional.of(translation.finish());
  }
}
