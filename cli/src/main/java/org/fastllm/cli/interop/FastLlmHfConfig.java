package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.LayerPlan;

/**
 * The {@code config.json} of a {@code fastllm-hf} folder: the resolved model section under this tool's own keys
 * ({@code blocks}, {@code block_pattern}, {@code num_layers}, ...), beside the keys transformers reads
 * ({@code architectures}, {@code model_type}, {@code auto_map}, {@code layer_types}, ...), which are derived from it.
 *
 * <pre>{@code
 * // given ModelConfig model, java.util.List<org.fastllm.dsl.pattern.LayerPlan> layers, BlockKindRegistry kinds
 * ObjectNode json = FastLlmHfConfig.write(model, layers, kinds);
 * ObjectNode section = FastLlmHfConfig.modelSection(json);  // the model section again, derived keys removed
 * }</pre>
 */
final class FastLlmHfConfig {
  /** The {@code model_type}: one no transformers class registers. */
  static final String MODEL_TYPE = "fastllm_hybrid";
  static final String ARCHITECTURE = "FastLLMForCausalLM";
  static final String FORMAT = "fastllm-hf";
  /** The keys derived from the model section; everything else in {@code config.json} is the section itself. */
  static final List<String> DERIVED = List.of("architectures", "model_type", "auto_map", "layer_types",
      "num_hidden_layers", "tie_word_embeddings", "torch_dtype", "transformers_version");
  /**
   * The keys transformers' {@code save_pretrained} may add to {@code config.json} (the attributes of
   * {@code PretrainedConfig} in transformers 4.5x and 5.x, written when they differ from its defaults, and
   * {@code use_cache}): read past on import, neither part of the model section nor checked against it.
   */
  static final List<String> SAVED_BY_TRANSFORMERS = List.of("_name_or_path", "add_cross_attention",
      "bos_token_id", "chunk_size_feed_forward", "cross_attention_hidden_size", "decoder_start_token_id", "dtype",
      "eos_token_id", "finetuning_task", "id2label", "is_decoder", "is_encoder_decoder", "label2id",
      "output_attentions", "output_hidden_states", "pad_token_id", "prefix", "problem_type", "pruned_heads",
      "return_dict", "sep_token_id", "task_specific_params", "tf_legacy_loss", "tie_encoder_decoder",
      "tokenizer_class", "torchscript", "use_bfloat16", "use_cache");
  private static final ObjectMapper PLAIN = new ObjectMapper();

  private FastLlmHfConfig() {}

  static ObjectNode write(ModelConfig model, List<LayerPlan> layers, BlockKindRegistry kinds) {
    ObjectNode json = PLAIN.createObjectNode();
    json.putArray("architectures").add(ARCHITECTURE);
    json.put("model_type", MODEL_TYPE);
    ObjectNode autoMap = json.putObject("auto_map");
    autoMap.put("AutoConfig", "configuration_fastllm.FastLLMConfig");
    autoMap.put("AutoModelForCausalLM", "modeling_fastllm.FastLLMForCausalLM");
    json.put("torch_dtype", "float32");
    json.put("num_hidden_layers", layers.size());
    json.put("tie_word_embeddings", Boolean.TRUE.equals(model.tiedEmbeddingWeight()));
    ArrayNode types = json.putArray("layer_types");
    layers.forEach(layer -> types.add(layerType(layer)));
    ObjectNode section = ConfigMapper.json(kinds).valueToTree(model);
    json.setAll(section);
    return json;
  }

  /**
   * What transformers calls the layer: {@code full_attention}, {@code sliding_attention} (attention with a window)
   * or {@code linear_attention} (a state-space layer, or a plugin kind's layer, which keeps a state of its own).
   */
  static String layerType(LayerPlan layer) {
    BlockConfig block = layer.config();
    if (block instanceof TransformerBlockConfig t) {
      return Boolean.TRUE.equals(t.slidingWindow()) ? "sliding_attention" : "full_attention";
    }
    return "linear_attention";
  }

  /**
   * The model section of a {@code fastllm-hf} {@code config.json}: every key but the derived ones and those
   * transformers' {@code save_pretrained} adds.
   */
  static ObjectNode modelSection(JsonNode json) {
    ObjectNode section = PLAIN.createObjectNode();
    for (Map.Entry<String, JsonNode> e : json.properties()) {
      if (!DERIVED.contains(e.getKey()) && !SAVED_BY_TRANSFORMERS.contains(e.getKey())) {
        section.set(e.getKey(), e.getValue());
      }
    }
    return section;
  }

  /** Each derived key that disagrees with the model section read back, as {@code key: found — expected}. */
  static List<String> disagreements(JsonNode json, ObjectNode expected) {
    return DERIVED.stream().filter(k -> !k.equals("transformers_version") && !k.equals("torch_dtype"))
        .filter(k -> !expected.get(k).equals(json.get(k)))
        .map(k -> k + ": " + json.get(k) + " — the model section gives " + expected.get(k)).toList();
  }
}
