package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a Hugging Face {@code config.json} into the model section of a new-format run config: every key is claimed
 * (read, or known to change nothing the weights compute) or the import is refused naming the keys nothing claimed.
 *
 * <pre>{@code
 * // given JsonNode json
 * HfConfigReader.Model model = HfConfigReader.read("config.json", json);  // model.yaml() is the model section
 * }</pre>
 */
final class HfConfigReader {
  /** Keys that change nothing the weights compute: bookkeeping, init-only, cache and token-id keys. */
  static final Set<String> HARMLESS = Set.of("architectures", "model_type", "torch_dtype", "dtype",
      "transformers_version", "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range", "use_cache",
      "_name_or_path", "return_dict", "output_attentions", "output_hidden_states", "tie_encoder_decoder",
      "is_encoder_decoder", "time_step_scale", "time_step_min", "time_step_max", "time_step_init_scheme",
      "time_step_floor", "rescale_prenorm_residual", "residual_in_fp32", "use_mambapy", "use_associative_scan",
      "max_window_layers",
      "attention_dropout");

  /** The model section (YAML, two-space indented under {@code model:}), the format, and the layer count. */
  record Model(HfFormat format, String yaml, int layers, boolean tied, boolean qkvBiases, boolean convBias) {}

  private final String file;
  private final JsonNode json;
  private final Set<String> claimed = new TreeSet<>(HARMLESS);
  private final List<String> problems = new ArrayList<>();

  private HfConfigReader(String file, JsonNode json) {
    this.file = file;
    this.json = json;
  }

  static Model read(String file, JsonNode json) {
    return new HfConfigReader(file, json).read();
  }

  private Model read() {
    HfFormat format = format();
    int hidden = integer("hidden_size", format.ssm ? 768 : 4096);
    int vocab = integer("vocab_size", switch (format) {
      case QWEN2 -> 151936;
      case MAMBA -> 50280;
      case MAMBA2 -> 32768;
      default -> 32000;
    });
    int layers = integer("num_hidden_layers", format == HfFormat.MAMBA2 ? 64 : 32);
    boolean tied = bool("tie_word_embeddings", format.tieDefault);
    StringBuilder yaml = new StringBuilder();
    yaml.append("model:\n  hidden_size: ").append(hidden).append("\n  vocab_size: ").append(vocab)
        .append("\n  tied_embedding_weight: ").append(tied).append('\n');
    boolean qkvBiases = false;
    boolean convBias = false;
    if (format == HfFormat.MAMBA2) {
      mamba2(yaml, hidden);
    } else if (format.ssm) {
      double eps = number("layer_norm_epsilon", 1e-5);
      convBias = bool("use_conv_bias", true);
      expect("use_bias", false);
      expect("hidden_act", "silu");
      int expand = integer("expand", 2);
      int inner = integer("intermediate_size", expand * hidden);
      String rank = json.has("time_step_rank") && json.get("time_step_rank").isNumber()
          ? json.get("time_step_rank").asText() : "auto";
      claimed.add("time_step_rank");
      yaml.append("  normalization: {type: rms_norm, epsilon: ").append(eps).append("}\n")
          .append("  max_sequence_length: 2048\n  blocks:\n    mamba: {kind: ssm, variant: mamba1, state_size: ")
          .append(integer("state_size", 16)).append(", d_inner: ").append(inner).append(", dt_rank: ").append(rank)
          .append(", conv_kernel_size: ").append(integer("conv_kernel", 4))
          .append(", conv_bias: ").append(convBias)
          .append(", ffn_hidden_size: 0, add_linear_biases: false}\n  block_pattern: [mamba]\n");
    } else {
      int heads = integer("num_attention_heads", 32);
      int groups = integer("num_key_value_heads", format == HfFormat.MISTRAL ? 8 : heads);
      int headSize = json.has("head_dim") && !json.get("head_dim").isNull() ? integer("head_dim", 0) : hidden / heads;
      claimed.add("head_dim");
      int ffn = integer("intermediate_size", switch (format) {
        case MISTRAL -> 14336;
        case QWEN2 -> 22016;
        default -> 11008;
      });
      double eps = number("rms_norm_eps", 1e-6);
      expect("hidden_act", "silu");
      int positions = integer("max_position_embeddings", switch (format) {
        case MISTRAL -> 4096 * 32;
        case QWEN2 -> 32768;
        default -> 2048;
      });
      if (format == HfFormat.LLAMA) {
        expect("attention_bias", false);
        expect("mlp_bias", false);
        expect("pretraining_tp", 1);
      }
      qkvBiases = format == HfFormat.QWEN2;
      if (format == HfFormat.QWEN2) {
        layerTypes(layers);
      }
      String window = window(format);
      String type = groups == heads ? "mha" : groups == 1 ? "mqa" : "gqa";
      yaml.append("  normalization: {type: rms_norm, epsilon: ").append(eps).append("}\n")
          .append("  max_sequence_length: ").append(positions).append('\n')
          .append("  blocks:\n    attention: {kind: transformer, attention_type: ").append(type)
          .append(", num_heads: ").append(heads).append(", head_groups: ").append(groups)
          .append(", head_size: ").append(headSize).append(window).append(", rotary: {type: default, theta: ")
          .append(ropeTheta()).append("}, ffn_hidden_size: ").append(ffn)
          .append(", gated: true, activation: silu, add_linear_biases: false")
          .append(qkvBiases ? ", qkv_biases: true" : "").append("}\n  block_pattern: [attention]\n");
    }
    yaml.append("  num_layers: ").append(layers).append('\n');
    List<String> unclaimed = new ArrayList<>();
    json.fieldNames().forEachRemaining(key -> {
      if (!claimed.contains(key)) {
        unclaimed.add(key);
      }
    });
    if (!unclaimed.isEmpty()) {
      problems.add("keys nothing here reads: " + String.join(", ", unclaimed) + " (not supported by " + format.option()
          + " import; they would change what the model computes)");
    }
    if (!problems.isEmpty()) {
      throw new InteropException(file + ": " + String.join("; ", problems));
    }
    return new Model(format, yaml.toString(), layers, tied, qkvBiases, convBias);
  }

  /**
   * Mamba2Config's keys: {@code num_heads x head_dim} must be {@code expand x hidden_size}; {@code rms_norm},
   * {@code time_step_rank} and {@code chunk_size} change nothing Mamba2Mixer computes (it always ends in the gated RMS
   * norm, takes dt from in_proj, and any chunk gives the same values), the latter kept as the block's chunk_size.
   */
  private void mamba2(StringBuilder yaml, int hidden) {
    double eps = number("layer_norm_epsilon", 1e-5);
    int expand = integer("expand", 2);
    int heads = integer("num_heads", 128);
    int headDim = integer("head_dim", 64);
    if ((long) heads * headDim != (long) expand * hidden) {
      problems.add("num_heads x head_dim (" + heads + " x " + headDim + ") must equal expand x hidden_size ("
          + expand + " x " + hidden + ")");
    }
    expect("hidden_act", "silu");
    expect("norm_before_gate", false);
    claimed.add("rms_norm");
    claimed.add("time_step_rank");
    claimed.add("time_step_limit");
    JsonNode limit = json.get("time_step_limit");
    if (limit != null && !limit.isNull() && !(limit.isArray() && limit.size() == 2 && limit.get(0).asDouble() == 0
        && isInfinity(limit.get(1)))) {
      problems.add("time_step_limit: " + limit + " is not supported — allowed: [0.0, Infinity] (dt not clamped)");
    }
    yaml.append("  normalization: {type: rms_norm, epsilon: ").append(eps).append("}\n")
        .append("  max_sequence_length: 2048\n  blocks:\n    mamba: {kind: ssm, variant: mamba2_standard, state_size: ")
        .append(integer("state_size", 128)).append(", d_inner: ").append(expand * hidden).append(", head_size: ")
        .append(headDim).append(", n_groups: ").append(integer("n_groups", 8)).append(", chunk_size: ")
        .append(integer("chunk_size", 256)).append(", conv_kernel_size: ").append(integer("conv_kernel", 4))
        .append(", conv_bias: ").append(bool("use_conv_bias", true)).append(", ffn_hidden_size: 0, add_linear_biases: ")
        .append(bool("use_bias", false)).append("}\n  block_pattern: [mamba]\n");
  }

  /**
   * Infinity as Python's json writes it ({@code Infinity}) or as transformers 5.x's config writer does
   * ({@code {"__float__": "Infinity"}}).
   */
  private static boolean isInfinity(JsonNode value) {
    JsonNode plain = value.isObject() && value.size() == 1 && value.has("__float__") ? value.get("__float__") : value;
    return plain.isNumber() ? plain.asDouble() == Double.POSITIVE_INFINITY : plain.asText().equals("Infinity");
  }

  private HfFormat format() {
    claimed.add("model_type");
    String type = json.path("model_type").asText("");
    java.util.Optional<HfFormat> byType = HfFormat.ofModelType(type);
    if (byType.isPresent()) {
      return byType.get();
    }
    JsonNode architectures = json.path("architectures");
    if (architectures.isArray() && architectures.size() == 1) {
      java.util.Optional<HfFormat> byClass = HfFormat.ofArchitecture(architectures.get(0).asText());
      if (byClass.isPresent()) {
        return byClass.get();
      }
    }
    throw new InteropException(file + ": model_type '" + type + "' (architectures " + architectures + ") is not one"
        + " this tool imports — allowed: llama, mistral, qwen2, mamba, mamba2");
  }

  private String window(HfFormat format) {
    claimed.add("sliding_window");
    claimed.add("use_sliding_window");
    if (format == HfFormat.LLAMA) {
      claimed.remove("sliding_window");
      return "";
    }
    if (format == HfFormat.QWEN2) {
      // Qwen2 slides only from layer max_window_layers on, a per-layer split this tool does not build.
      expect("use_sliding_window", false);
      return "";
    }
    JsonNode window = json.get("sliding_window");
    if (json.has("sliding_window") && (window.isNull())) {
      return "";
    }
    int size = window == null ? 4096 : window.asInt();
    return ", sliding_window: true, window_size: " + size;
  }

  /** transformers' per-layer {@code layer_types}: full attention at every layer is the only kind imported. */
  private void layerTypes(int layers) {
    claimed.add("layer_types");
    JsonNode types = json.get("layer_types");
    if (types == null || types.isNull()) {
      return;
    }
    List<String> other = new ArrayList<>();
    types.forEach(t -> {
      if (!t.asText().equals("full_attention")) {
        other.add(t.asText());
      }
    });
    if (!types.isArray() || types.size() != layers || !other.isEmpty()) {
      problems.add("layer_types: " + types + " is not supported — allowed: full_attention at each of the " + layers
          + " layers");
    }
  }

  /** {@code rope_theta} with {@code rope_scaling}, or transformers 5's {@code rope_parameters}. */
  private double ropeTheta() {
    claimed.add("rope_theta");
    claimed.add("rope_scaling");
    claimed.add("rope_parameters");
    JsonNode scaling = json.has("rope_parameters") ? json.get("rope_parameters") : json.get("rope_scaling");
    double theta = json.path("rope_theta").asDouble(10000.0);
    if (scaling != null && !scaling.isNull()) {
      String type = scaling.path("rope_type").asText(scaling.path("type").asText("default"));
      if (!type.equals("default")) {
        problems.add((json.has("rope_parameters") ? "rope_parameters" : "rope_scaling") + ".rope_type '" + type
            + "' is not supported — allowed: default (plain rotary)");
      }
      scaling.fieldNames().forEachRemaining(key -> {
        if (!Set.of("rope_type", "type", "rope_theta").contains(key)) {
          problems.add("rope key '" + key + "' is not supported (plain rotary only)");
        }
      });
      theta = scaling.path("rope_theta").asDouble(theta);
    }
    return theta;
  }

  private int integer(String key, int fallback) {
    claimed.add(key);
    JsonNode value = json.get(key);
    if (value == null || value.isNull()) {
      return fallback;
    }
    if (!value.canConvertToInt()) {
      problems.add(key + ": " + value + " is not an integer");
      return fallback;
    }
    return value.asInt();
  }

  private double number(String key, double fallback) {
    claimed.add(key);
    JsonNode value = json.get(key);
    return value == null || value.isNull() ? fallback : value.asDouble();
  }

  private boolean bool(String key, boolean fallback) {
    claimed.add(key);
    JsonNode value = json.get(key);
    return value == null || value.isNull() ? fallback : value.asBoolean();
  }

  private void expect(String key, Object allowed) {
    claimed.add(key);
    JsonNode value = json.get(key);
    if (value != null && !value.isNull() && !value.asText().toLowerCase(Locale.ROOT).equals(allowed.toString())) {
      problems.add(key + ": " + value + " is not supported — allowed: " + allowed);
    }
  }
}
