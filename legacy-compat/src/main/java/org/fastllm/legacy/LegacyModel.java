package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * The model part of a legacy file, read from Fast-LLM's {@code base_model} level (or from {@code model} itself when
 * the sections sit directly there) and written as the new {@code model} section.
 *
 * <p>Defaults of that level, as Fast-LLM applied them: vocab_size 49152, <b>tie_word_embeddings true</b>,
 * max_position_embeddings 2048, and <b>learned absolute position embeddings whenever rotary is off</b> (which it
 * was by default).
 */
final class LegacyModel {
  static final int DEFAULT_VOCAB = 49152;
  static final int DEFAULT_POSITIONS = 2048;
  private static final Map<String, String> UNMAPPED = unmapped();

  private final Translation translation;
  private final LegacySection base;

  LegacyModel(Translation translation, String basePath) {
    this.translation = translation;
    this.base = new LegacySection(translation, basePath);
  }

  void translate() {
    if (base.path().equals("model.base_model")) {
      translation.warn(base.path(), "the 'base_model' level is deprecated; write its keys directly under model");
    }
    TransformerSection transformer = new TransformerSection(translation, base.path("transformer"));
    if (base.take("transformer") != null) {
      translation.warn(base.path("transformer"), "the global 'transformer' section is deprecated; write per-block"
          + " configs under model.blocks (kind: transformer)");
    }
    SsmSection ssm = new SsmSection(translation, base.path("ssm"), transformer);
    base.take("ssm");
    OptionalInt layers = transformer.numLayers();
    HybridLayout layout = HybridLayout.read(translation, base, ssm.exists(), layers);
    transformer.writeModelKeys();
    embeddings(transformer);
    blocks(transformer, ssm, layout);
    transformer.reportRest();
    multiTokenPrediction(layout);
    RunSections.MODEL_LEVEL.keySet().forEach(base::take); // named key by key by RunSections
    base.reportRest("base_model", UNMAPPED);
  }

  private void embeddings(TransformerSection transformer) {
    copy("vocab_size", "vocab_size", Translation.NODES.numberNode(DEFAULT_VOCAB));
    copy("tie_word_embeddings", "tied_embedding_weight", Translation.NODES.booleanNode(true));
    copy("max_position_embeddings", "max_sequence_length", Translation.NODES.numberNode(DEFAULT_POSITIONS));
    JsonNode positions = base.take("use_position_embeddings");
    if (positions != null) {
      translation.warn(base.path("use_position_embeddings"), "renamed to position_embeddings under model");
    }
    translation.put("model.position_embeddings",
        positions != null ? positions : Translation.NODES.booleanNode(!transformer.rotaryEnabled()),
        base.path(positions != null ? "use_position_embeddings" : "transformer"));
  }

  private void blocks(TransformerSection transformer, SsmSection ssm, HybridLayout layout) {
    if (layout.pattern().isEmpty()) {
      return;
    }
    for (LayoutLetter letter : layout.letters()) { // blocks in order of first use
      translation.put("model.blocks." + letter.blockName() + ".kind",
          Translation.NODES.textNode(letter.isSsm() ? "ssm" : "transformer"),
          base.path(letter.isSsm() ? "ssm" : "transformer"));
    }
    transformer.writeAttention(layout.uses(LayoutLetter.TRANSFORMER));
    ssm.write(layout);
    List<String> names = layout.letters().stream().map(LayoutLetter::blockName).toList();
    transformer.writeMlpKeys(names);
    ArrayNode pattern = Translation.NODES.arrayNode();
    String layoutPath = base.path("hybrid_block_layout");
    for (int i = 0; i < layout.pattern().size(); i++) {
      pattern.add(layout.pattern().get(i).blockName());
      translation.locateAt(ConfigPath.index("model.block_pattern", i),
          layout.written() ? ConfigPath.index(layoutPath, i) : base.path());
    }
    translation.put("model.block_pattern", pattern, layout.written() ? layoutPath : base.path());
  }

  private void multiTokenPrediction(HybridLayout layout) {
    JsonNode heads = base.take("prediction_heads");
    JsonNode type = base.take("default_mtp_type");
    if (heads != null && heads.canConvertToInt() && heads.intValue() > 1 && !layout.pattern().isEmpty()) {
      String letter = type != null ? type.asText() : layout.pattern().get(layout.pattern().size() - 1).letter();
      translation.warn(base.path("prediction_heads"), "multi-token prediction has no equivalent in this tool; the "
          + (heads.intValue() - 1) + " extra prediction head(s), each a '" + letter + "' layer and an output head, are"
          + " not built");
    } else if (heads != null) {
      translation.warn(base.path("prediction_heads"), "has no equivalent in this tool; ignored (multi-token prediction)");
    }
    if (type != null) {
      translation.warn(base.path("default_mtp_type"), "has no equivalent in this tool; ignored (multi-token prediction)");
    }
  }

  /** Copies {@code legacyKey} to {@code model.<key>}, with a rename warning, or writes Fast-LLM's default. */
  private void copy(String legacyKey, String key, JsonNode fallback) {
    JsonNode value = base.take(legacyKey);
    if (value != null && !legacyKey.equals(key)) {
      translation.warn(base.path(legacyKey), "renamed to " + key + " under model");
    }
    translation.put("model." + key, value != null ? value : fallback, value != null ? base.path(legacyKey) : base.path());
  }

  private static Map<String, String> unmapped() {
    Map<String, String> reasons = new HashMap<>();
    for (String key : List.of("init_method_std_embed", "init_method_max_embed", "init_method_min_embed",
        "use_megatron_initialization")) {
      reasons.put(key, "an initialisation setting");
    }
    for (String key : List.of("enable_dpo", "dpo_beta", "dpo_reference_model", "distillation_model",
        "distillation_loss_implementation", "distillation_loss_factor", "language_model_loss_factor",
        "teacher_softmax_temperature", "logit_z_loss", "prediction_loss_coefficient")) {
      reasons.put(key, "a loss setting");
    }
    for (String key : List.of("cross_entropy_impl", "cross_entropy_splits", "parallel_embeddings",
        "sequence_first")) {
      reasons.put(key, "a kernel or parallelism setting");
    }
    reasons.put("embeddings_lr_scale", "learning-rate scale of the embeddings");
    reasons.put("output_lr_scale", "learning-rate scale of the output head");
    reasons.put("logits_scale_factor", "muP logit scaling");
    return Map.copyOf(reasons);
  }
}
