package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.fastllm.dsl.config.SsmVariant;

/**
 * Fast-LLM's global {@code ssm:} section: one mixer config shared by every mamba layer, whatever its kind.
 *
 * <pre>{@code ssm: {state_size: 16, n_qk_heads: 32, n_v_heads: 32}  ->  discrete_mamba2: {kind: ssm, variant: discrete_mamba2, ...}}</pre>
 *
 * <p>Defaults, as Fast-LLM applied them: state_size 16, d_inner = expansion_factor (2) x hidden_size, dt_rank
 * ceil(hidden_size / 16) (written {@code auto}), conv_kernel_dimension 4, add_bias_linear false; for Mamba 2 d_xb =
 * hidden_size and repeat_kv_before_conv true; for discrete Mamba 2 n_qk_heads 32, n_v_heads 32, chunk_size 256.
 * Each key goes only to the variants that used it.
 */
final class SsmSection {
  static final int DEFAULT_STATE = 16;
  static final int DEFAULT_EXPANSION = 2;
  static final int DEFAULT_CONV = 4;
  static final int DEFAULT_QK_HEADS = 32;
  static final int DEFAULT_V_HEADS = 32;
  static final int DEFAULT_CHUNK = 256;
  private static final JsonNodeFactory NODES = Translation.NODES;
  private static final Set<SsmVariant> WITH_DT_RANK = Set.of(SsmVariant.MAMBA1, SsmVariant.MAMBA2);
  private static final Map<String, String> UNMAPPED = Map.ofEntries(
      Map.entry("activation_type", "the discrete Mamba 2 mixer's activation is silu here, Fast-LLM's default"),
      Map.entry("normalization", "Fast-LLM did not use it: mamba layers were normalised by transformer.normalization"),
      Map.entry("mamba_lr_scale", "a mixer-only learning-rate scale; this tool has lr_scale per block"),
      Map.entry("per_layer_lr_scale", "per-layer learning-rate scales; this tool has lr_scale per block"),
      Map.entry("dt_init", "an initialisation setting"),
      Map.entry("dt_scale", "an initialisation setting"),
      Map.entry("dt_min", "an initialisation setting"),
      Map.entry("dt_max", "an initialisation setting"),
      Map.entry("dt_init_floor", "an initialisation setting"),
      Map.entry("debug_ssm", "a debugging setting"));

  private final Translation translation;
  private final LegacySection section;
  private final TransformerSection transformer;

  SsmSection(Translation translation, String path, TransformerSection transformer) {
    this.translation = translation;
    this.section = new LegacySection(translation, path);
    this.transformer = transformer;
  }

  boolean exists() {
    return section.exists();
  }

  /** Writes one ssm block per mamba letter of {@code layout}, then names what was not mapped. */
  void write(HybridLayout layout) {
    List<LayoutLetter> letters = layout.letters().stream().filter(LayoutLetter::isSsm).toList();
    if (letters.isEmpty()) {
      if (section.exists()) {
        translation.warn(section.path(), "not used: hybrid_block_layout has no mamba layer (m, m2 or m2d)");
      }
      return;
    }
    if (section.exists()) {
      translation.warn(section.path(), "the global 'ssm' section is deprecated; write per-block configs under"
          + " model.blocks (kind: ssm, variant: mamba1 | mamba2 | discrete_mamba2)");
    }
    List<String> names = letters.stream().map(LayoutLetter::blockName).toList();
    for (LayoutLetter letter : letters) {
      String block = "model.blocks." + letter.blockName();
      translation.put(block + ".kind", NODES.textNode("ssm"), section.path());
      translation.put(block + ".variant", NODES.textNode(letter.variant().yamlName()), section.path());
    }
    common(letters, names);
    variantKeys(letters);
    biases(letters);
    section.reportRest("ssm", UNMAPPED);
  }

  private void common(List<LayoutLetter> letters, List<String> names) {
    copy(letters, "state_size", "state_size", DEFAULT_STATE);
    copy(letters, "conv_kernel_dimension", "conv_kernel_size", DEFAULT_CONV);
    renamed("conv_kernel_dimension", "conv_kernel_size", names);
    innerSize(letters, names);
    List<LayoutLetter> withRank = letters.stream().filter(l -> WITH_DT_RANK.contains(l.variant())).toList();
    JsonNode rank = section.take("dt_rank");
    if (withRank.isEmpty()) {
      unused("dt_rank", "m or m2");
    }
    for (LayoutLetter letter : withRank) {
      boolean auto = rank == null || (rank.isTextual() && rank.asText().equals("auto"));
      put(letter, "dt_rank", auto ? NODES.textNode("auto") : rank, rank != null ? "dt_rank" : "");
    }
  }

  private void innerSize(List<LayoutLetter> letters, List<String> names) {
    JsonNode inner = section.take("d_inner");
    JsonNode expansion = section.take("expansion_factor");
    OptionalInt factor = expansion == null ? OptionalInt.of(DEFAULT_EXPANSION) : section.takeInt("expansion_factor");
    OptionalInt hidden = transformer.hiddenSize();
    for (LayoutLetter letter : letters) {
      if (inner != null) {
        put(letter, "d_inner", inner, "d_inner");
      } else if (factor.isPresent() && hidden.isPresent()) {
        put(letter, "d_inner", NODES.numberNode((long) factor.getAsInt() * hidden.getAsInt()),
            expansion != null ? "expansion_factor" : "");
      } else if (expansion != null) {
        put(letter, "expansion_factor", expansion, "expansion_factor");
      }
    }
    if (expansion != null && inner != null) {
      translation.warn(section.path("expansion_factor"), "ignored: d_inner is given, and Fast-LLM used d_inner");
    } else if (expansion != null && factor.isPresent() && hidden.isPresent()) {
      translation.warn(section.path("expansion_factor"), "written as d_inner: "
          + (long) factor.getAsInt() * hidden.getAsInt() + " (expansion_factor x hidden_size) in " + blocks(names));
    }
  }

  private void variantKeys(List<LayoutLetter> letters) {
    List<LayoutLetter> mamba2 = only(letters, SsmVariant.MAMBA2);
    List<LayoutLetter> discrete = only(letters, SsmVariant.DISCRETE_MAMBA2);
    JsonNode xb = section.take("d_xb");
    OptionalInt hidden = transformer.hiddenSize();
    for (LayoutLetter letter : mamba2) {
      if (xb != null) {
        put(letter, "d_xb", xb, "d_xb");
      } else if (hidden.isPresent()) {
        put(letter, "d_xb", NODES.numberNode(hidden.getAsInt()), "");
      }
    }
    copy(mamba2, "repeat_kv_before_conv", "repeat_kv_before_conv", true);
    copy(discrete, "n_qk_heads", "n_qk_heads", DEFAULT_QK_HEADS);
    copy(discrete, "n_v_heads", "n_v_heads", DEFAULT_V_HEADS);
    copy(discrete, "chunk_size", "chunk_size", DEFAULT_CHUNK);
    if (mamba2.isEmpty()) {
      unused("d_xb", "m2");
      unused("repeat_kv_before_conv", "m2");
    }
    if (discrete.isEmpty()) {
      unused("n_qk_heads", "m2d");
      unused("n_v_heads", "m2d");
      unused("chunk_size", "m2d");
    }
  }

  /**
   * Fast-LLM took the biases of a mamba layer's MLP from {@code transformer.add_linear_biases} and those of its
   * mixer from {@code ssm.add_bias_linear} (Mamba 1 ignored the latter); this tool has one flag per block.
   */
  private void biases(List<LayoutLetter> letters) {
    JsonNode given = section.take("add_bias_linear");
    boolean mixer = given != null && given.isBoolean() && given.booleanValue();
    boolean mlp = transformer.mlpBiases();
    List<String> names = letters.stream()
        .filter(l -> l.variant() != SsmVariant.MAMBA1).map(LayoutLetter::blockName).toList();
    if (names.isEmpty()) {
      unused("add_bias_linear", "m2 or m2d; Fast-LLM's Mamba 1 mixer had no linear biases");
    }
    renamed("add_bias_linear", "add_linear_biases", names);
    List<String> lost = new java.util.ArrayList<>();
    for (LayoutLetter letter : letters) {
      boolean mamba1 = letter.variant() == SsmVariant.MAMBA1;
      JsonNode value = mamba1 ? NODES.booleanNode(mlp) : given != null ? given : NODES.booleanNode(false);
      put(letter, "add_linear_biases", value, given != null && !mamba1 ? "add_bias_linear" : "");
      if (!mamba1 && mixer != mlp) {
        lost.add(letter.blockName());
      }
    }
    if (!lost.isEmpty()) {
      long count = transformer.mlpBiasParameters();
      String delta = count < 0 ? "" : " (" + count + (mlp ? " fewer" : " more") + " parameters per layer than in Fast-LLM)";
      translation.warn(given != null ? section.path("add_bias_linear") : section.path(), "Fast-LLM gave the MLP of"
          + " mamba layers biases from transformer.add_linear_biases (" + mlp + ") but their mixer biases from"
          + " ssm.add_bias_linear (" + mixer + "); this tool has one add_linear_biases per block, written as " + mixer
          + " in " + blocks(lost) + ", so their MLP " + (mlp ? "has no biases" : "has biases") + delta);
    }
  }

  private List<LayoutLetter> only(List<LayoutLetter> letters, SsmVariant variant) {
    return letters.stream().filter(l -> l.variant() == variant).toList();
  }

  private void copy(List<LayoutLetter> letters, String legacyKey, String key, Object fallback) {
    JsonNode value = section.take(legacyKey);
    for (LayoutLetter letter : letters) {
      JsonNode written = value != null ? value
          : fallback instanceof Integer i ? NODES.numberNode(i) : NODES.booleanNode((Boolean) fallback);
      put(letter, key, written, value != null ? legacyKey : "");
    }
  }

  private void unused(String key, String letters) {
    if (section.has(key)) {
      translation.warn(section.path(key), "not used: hybrid_block_layout has no layer of a kind that reads it ("
          + letters + ")");
    }
  }

  private void renamed(String legacyKey, String key, List<String> names) {
    if (section.has(legacyKey)) {
      translation.warn(section.path(legacyKey), "renamed to " + key + " in " + blocks(names));
    }
  }

  private void put(LayoutLetter letter, String key, JsonNode value, String legacyKey) {
    translation.put("model.blocks." + letter.blockName() + "." + key, value,
        legacyKey.isEmpty() ? section.path() : section.path(legacyKey));
  }

  private static String blocks(List<String> names) {
    return (names.size() == 1 ? "block " : "blocks ")
        + names.stream().map(n -> "'" + n + "'").collect(Collectors.joining(", "));
  }
}
