package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;

/**
 * Fast-LLM's global {@code transformer:} section. It gave the model its width, depth and normalization, the
 * attention of every {@code t} layer, and the MLP of <em>every</em> layer, mamba layers included.
 *
 * <pre>{@code transformer: {hidden_size: 1024, num_layers: 4, num_attention_heads: 16, head_groups: 4}}</pre>
 *
 * <p>Defaults, as Fast-LLM applied them: hidden_size 1024, num_layers 12, num_attention_heads 8, head_groups 1
 * (multi-query attention), kv_channels hidden_size / num_attention_heads, ffn_hidden_size 4 x hidden_size,
 * gated false, activation silu when gated else gelu, add_linear_biases true, no rotary, no sliding window.
 */
final class TransformerSection {
  static final int DEFAULT_HIDDEN = 1024;
  static final int DEFAULT_LAYERS = 12;
  static final int DEFAULT_HEADS = 8;
  static final int DEFAULT_HEAD_GROUPS = 1;
  private static final JsonNodeFactory NODES = Translation.NODES;
  private static final Map<String, String> UNMAPPED = unmapped();

  private final Translation translation;
  private final LegacySection section;
  private final JsonNode hiddenNode;
  private final OptionalInt hidden;
  private final OptionalInt numLayers;
  private final RotarySection rotary;
  private final Mlp mlp;

  TransformerSection(Translation translation, String path) {
    this.translation = translation;
    this.section = new LegacySection(translation, path);
    this.hiddenNode = section.take("hidden_size");
    this.hidden = hiddenNode == null ? OptionalInt.of(DEFAULT_HIDDEN) : section.takeInt("hidden_size");
    JsonNode layers = section.take("num_layers");
    this.numLayers = layers == null ? OptionalInt.of(DEFAULT_LAYERS) : section.takeInt("num_layers");
    this.rotary = RotarySection.read(translation, section, LayoutLetter.TRANSFORMER.blockName());
    this.mlp = new Mlp();
  }

  /** The width every block and the model share, when it is a whole number. */
  OptionalInt hiddenSize() {
    return hidden;
  }

  OptionalInt numLayers() {
    return numLayers;
  }

  boolean rotaryEnabled() {
    return rotary.enabled();
  }

  /** Whether the MLPs had biases: Fast-LLM's {@code add_linear_biases} true or {@code everywhere}. */
  boolean mlpBiases() {
    return mlp.biases;
  }

  /** The parameters the biases of one MLP add: {@code (gated ? 2 : 1) x ffn + hidden}, or -1 when unknown. */
  long mlpBiasParameters() {
    if (mlp.ffn.isEmpty() || hidden.isEmpty()) {
      return -1;
    }
    return (mlp.gated ? 2L : 1L) * mlp.ffn.getAsInt() + hidden.getAsInt();
  }

  /** Writes model.hidden_size, model.num_layers and model.normalization. */
  void writeModelKeys() {
    String at = section.path("hidden_size");
    if (hiddenNode != null) {
      translation.warn(at, "moved to model.hidden_size");
    }
    translation.put("model.hidden_size", hiddenNode != null ? hiddenNode : NODES.numberNode(DEFAULT_HIDDEN),
        hiddenNode != null ? at : section.path());
    JsonNode layers = translation.legacyNode(section.path("num_layers"));
    if (layers != null) {
      translation.warn(section.path("num_layers"), "moved to model.num_layers");
    }
    translation.put("model.num_layers", layers != null ? layers : NODES.numberNode(DEFAULT_LAYERS),
        layers != null ? section.path("num_layers") : section.path());
    NormalizationSection.translate(translation, section.path("normalization"));
    section.take("normalization");
  }

  /** Writes the MLP keys Fast-LLM took from this section into every block of the layout. */
  void writeMlpKeys(List<String> blockNames) {
    mlp.write(blockNames);
  }

  /** Writes the attention keys of the transformer block, or warns they are unused when no layer is a transformer. */
  void writeAttention(boolean used) {
    new Attention(used).write();
  }

  /** Names every key of the section that was not mapped. */
  void reportRest() {
    section.reportRest("transformer", UNMAPPED);
  }

  private static String quoted(List<String> names) {
    return names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
  }

  private static String blocks(List<String> names) {
    return (names.size() == 1 ? "block " : "blocks ") + quoted(names);
  }

  /** The MLP settings every block shares. */
  private final class Mlp {
    final OptionalInt ffn;
    final boolean gated;
    final boolean biases;
    private final JsonNode ffnNode;
    private final JsonNode activation;
    private final JsonNode dropout;

    Mlp() {
      ffnNode = section.take("ffn_hidden_size");
      OptionalInt given = section.takeInt("ffn_hidden_size");
      ffn = ffnNode != null ? given
          : hidden.isPresent() ? OptionalInt.of(4 * hidden.getAsInt()) : OptionalInt.empty();
      gated = section.takeBoolean("gated").orElse(false);
      activation = section.take("activation_type");
      dropout = section.take("hidden_dropout");
      JsonNode bias = section.take("add_linear_biases");
      biases = bias == null || bias.asText().equals("true") || bias.asText().equals("everywhere");
    }

    void write(List<String> names) {
      JsonNode gatedNode = translation.legacyNode(section.path("gated"));
      JsonNode act = activation();
      if (activation != null) {
        translation.warn(section.path("activation_type"), "renamed to activation in " + blocks(names));
      }
      if (dropout != null) {
        translation.warn(section.path("hidden_dropout"), "renamed to dropout in " + blocks(names));
      }
      for (String name : names) {
        String block = "model.blocks." + name;
        if (ffnNode != null) {
          translation.put(block + ".ffn_hidden_size", ffnNode, section.path("ffn_hidden_size"));
        } else if (ffn.isPresent()) {
          translation.put(block + ".ffn_hidden_size", NODES.numberNode(ffn.getAsInt()), section.path());
        }
        translation.put(block + ".gated", gatedNode != null ? gatedNode : NODES.booleanNode(false),
            gatedNode != null ? section.path("gated") : section.path());
        translation.put(block + ".activation", act, activation != null ? section.path("activation_type") : section.path());
        if (dropout != null) {
          translation.put(block + ".dropout", dropout, section.path("hidden_dropout"));
        }
      }
    }

    private JsonNode activation() {
      String fallback = gated ? "silu" : "gelu";
      if (activation == null) {
        return NODES.textNode(fallback);
      }
      if (activation.isTextual() && activation.asText().equals("identity")) {
        translation.warn(section.path("activation_type"), "'identity' has no equivalent in this tool; written as "
            + fallback + " (Fast-LLM's default for gated: " + gated + ")");
        return NODES.textNode(fallback);
      }
      return activation;
    }
  }

  /** The attention keys of the {@code transformer} block. */
  private final class Attention {
    private final boolean used;
    private final String block = "model.blocks." + LayoutLetter.TRANSFORMER.blockName();

    Attention(boolean used) {
      this.used = used;
    }

    void write() {
      JsonNode heads = section.take("num_attention_heads");
      JsonNode groups = section.take("head_groups");
      JsonNode kvChannels = section.take("kv_channels");
      JsonNode bias = section.take("add_linear_biases");
      JsonNode window = section.take("window_size");
      JsonNode flash = section.take("use_flash_attention");
      if (!used) {
        for (String key : List.of("num_attention_heads", "head_groups", "kv_channels", "window_size", "rotary")) {
          if (section.has(key)) {
            translation.warn(section.path(key), "not used: hybrid_block_layout has no transformer ('t') layer");
          }
        }
        return;
      }
      renamed(heads, "num_attention_heads", "num_heads");
      renamed(kvChannels, "kv_channels", "head_size");
      int h = heads == null ? DEFAULT_HEADS : heads.canConvertToInt() ? heads.intValue() : -1;
      int g = groups == null ? DEFAULT_HEAD_GROUPS : groups.canConvertToInt() ? groups.intValue() : -1;
      put("num_heads", heads != null ? heads : NODES.numberNode(DEFAULT_HEADS), heads != null ? "num_attention_heads" : "");
      put("head_groups", groups != null ? groups : NODES.numberNode(DEFAULT_HEAD_GROUPS), groups != null ? "head_groups" : "");
      if (h > 0 && g > 0) {
        put("attention_type", NODES.textNode(g == 1 ? "mqa" : g == h ? "mha" : "gqa"),
            groups != null ? "head_groups" : "");
      }
      headSize(kvChannels, h);
      biases(bias, h, g);
      rotary.write(translation, block);
      if (window != null) {
        translation.warn(section.path("window_size"), "written as sliding_window: true with window_size in block '"
            + LayoutLetter.TRANSFORMER.blockName() + "'");
        put("sliding_window", NODES.booleanNode(true), "window_size");
        put("window_size", window, "window_size");
      }
      if (flash != null) {
        put("use_flash_attention", flash, "use_flash_attention");
      }
    }

    private void headSize(JsonNode kvChannels, int heads) {
      if (kvChannels != null) {
        put("head_size", kvChannels, "kv_channels");
      } else if (hidden.isPresent() && heads > 0) {
        if (hidden.getAsInt() % heads == 0) {
          put("head_size", NODES.numberNode(hidden.getAsInt() / heads), "");
        } else {
          translation.error(section.path("num_attention_heads"), "num_attention_heads " + heads + " does not divide"
              + " hidden_size " + hidden.getAsInt() + " and kv_channels is not given; Fast-LLM rejected this");
        }
      }
    }

    private void biases(JsonNode bias, int heads, int groups) {
      String at = bias != null ? "add_linear_biases" : "";
      if (bias == null || bias.isBoolean()) {
        put("add_linear_biases", bias != null ? bias : NODES.booleanNode(true), at);
        return;
      }
      switch (bias.asText()) {
        case "everywhere" -> put("add_linear_biases", NODES.booleanNode(true), at);
        case "nowhere" -> put("add_linear_biases", NODES.booleanNode(false), at);
        case "only_attn_qkv" -> {
          put("add_linear_biases", NODES.booleanNode(false), at);
          translation.warn(section.path(at), "'only_attn_qkv' has no equivalent in this tool (one add_linear_biases"
              + " per block); written as false, so the query and key_value biases of block 'transformer' are not"
              + " built" + qkvBiasCount(heads, groups));
        }
        default -> translation.error(section.path(at), "unknown value '" + bias.asText()
            + "' (Fast-LLM knew: true, false, nowhere, everywhere, only_attn_qkv)");
      }
    }

    private String qkvBiasCount(int heads, int groups) {
      if (hidden.isEmpty() || heads <= 0 || groups <= 0 || hidden.getAsInt() % heads != 0) {
        return "";
      }
      long size = hidden.getAsInt() / heads;
      return " (" + (heads + 2L * groups) * size + " fewer parameters per layer than in Fast-LLM)";
    }

    private void renamed(JsonNode value, String legacyKey, String newKey) {
      if (value != null) {
        translation.warn(section.path(legacyKey), "renamed to " + newKey + " in block '"
            + LayoutLetter.TRANSFORMER.blockName() + "'");
      }
    }

    private void put(String key, JsonNode value, String legacyKey) {
      translation.put(block + "." + key, value, legacyKey.isEmpty() ? section.path() : section.path(legacyKey));
    }
  }

  private static Map<String, String> unmapped() {
    Map<String, String> reasons = new java.util.HashMap<>();
    for (String key : List.of("init_method_std", "init_method_max", "init_method_min", "init_method_std_qkv",
        "init_method_max_qkv", "init_method_min_qkv", "init_method_std_attn_proj", "init_method_max_attn_proj",
        "init_method_min_attn_proj", "init_method_std_mlp_1", "init_method_max_mlp_1", "init_method_min_mlp_1",
        "init_method_std_mlp_2", "init_method_max_mlp_2", "init_method_min_mlp_2", "random_bias_init")) {
      reasons.put(key, "an initialisation setting");
    }
    for (String key : List.of("num_experts", "num_shared_experts", "num_experts_per_token", "expert_routing_type",
        "expert_auxiliary_loss_coefficient", "expert_z_loss_coefficient", "moe_jitter_eps", "router_lr_scale",
        "dropless_moe", "dropless_dynamic_shape")) {
      reasons.put(key, "mixture of experts");
    }
    for (String key : List.of("attention_lr_scale", "mlp_lr_scale", "per_layer_lr_scale")) {
      reasons.put(key, "sub-block learning-rate scales; this tool has lr_scale per block");
    }
    for (String key : List.of("debug_transformer", "debug_transformer_memory", "mlp_recompute_level",
        "full_precision_residual")) {
      reasons.put(key, "a debugging or memory setting");
    }
    reasons.put("attention_dropout", "dropout on attention probabilities");
    reasons.put("attention_softmax_scale_power", "attention scaling for muP");
    reasons.put("max_window_layers", "in Fast-LLM the layers with index below it used full attention; here every"
        + " transformer layer uses the window");
    reasons.put("peft", "LoRA: add lora: to the transformer block instead");
    return Map.copyOf(reasons);
  }
}
