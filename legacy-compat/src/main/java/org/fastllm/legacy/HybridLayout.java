package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * The layer layout of a legacy model: its {@code hybrid_block_layout}, or the default Fast-LLM applied.
 *
 * <p><b>Defaults, as Fast-LLM applied them:</b> a hybrid model (one with an {@code ssm:} section) without a layout
 * has a discrete Mamba 2 in <em>every</em> layer (the default was {@code ["m2"]} meaning discrete Mamba 2 until
 * June 2025, then {@code ["m2d"]}); a model with neither {@code ssm:} nor a layout is a plain GPT model, a
 * transformer in every layer. A layout whose length does not divide {@code num_layers} was rejected.
 *
 * @param pattern one letter per entry, repeated by the new {@code block_pattern} to reach {@code num_layers}
 * @param written whether the file gave the layout (false when a default was applied)
 */
record HybridLayout(List<LayoutLetter> pattern, boolean written) {
  private static final String ALLOWED = "t, m, m2, m2d";

  HybridLayout {
    pattern = List.copyOf(pattern);
  }

  /** The distinct letters, in order of first use: the blocks the migrated file defines. */
  Set<LayoutLetter> letters() {
    return new LinkedHashSet<>(pattern);
  }

  boolean uses(LayoutLetter letter) {
    return pattern.contains(letter);
  }

  boolean hasSsm() {
    return pattern.stream().anyMatch(LayoutLetter::isSsm);
  }

  /** Reads {@code <base>.hybrid_block_layout}, reporting bad letters and lengths on {@code translation}. */
  static HybridLayout read(Translation translation, LegacySection base, boolean hybrid, OptionalInt numLayers) {
    String path = base.path("hybrid_block_layout");
    JsonNode layout = base.take("hybrid_block_layout");
    if (layout == null) {
      return defaulted(translation, base, hybrid);
    }
    if (!layout.isArray() || layout.isEmpty()) {
      translation.error(path, "expected a non-empty list of layer letters (" + ALLOWED + ")");
      return new HybridLayout(List.of(), true);
    }
    List<LayoutLetter> pattern = new ArrayList<>();
    for (int i = 0; i < layout.size(); i++) {
      String letter = layout.get(i).isTextual() ? layout.get(i).asText() : layout.get(i).toString();
      Optional<LayoutLetter> found = LayoutLetter.of(letter);
      if (found.isEmpty()) {
        translation.error(ConfigPath.index(path, i), "unknown layer letter '" + letter + "' (allowed: " + ALLOWED + ")");
      } else {
        pattern.add(found.get());
      }
    }
    HybridLayout result = new HybridLayout(pattern, true);
    if (pattern.size() == layout.size()) {
      result.checkLength(translation, path, numLayers);
      result.warnDeprecated(translation, path);
      int firstM2 = pattern.indexOf(LayoutLetter.MAMBA2);
      if (firstM2 >= 0) {
        translation.warn(ConfigPath.index(path, firstM2), "'m2' is read as Mamba 2 (its meaning in Fast-LLM from July"
            + " 2025); files written before June 2025 used 'm2' for discrete Mamba 2, which is 'm2d' now");
      }
    }
    return result;
  }

  private static HybridLayout defaulted(Translation translation, LegacySection base, boolean hybrid) {
    if (hybrid) {
      translation.warn(base.path("ssm"), "no hybrid_block_layout: Fast-LLM's default for a hybrid model was a discrete"
          + " Mamba 2 ('m2d') in every layer, not transformer layers; written as block_pattern: [discrete_mamba2]");
      return new HybridLayout(List.of(LayoutLetter.DISCRETE_MAMBA2), false);
    }
    translation.warn(base.path(), "no 'ssm' section and no hybrid_block_layout: read as a Fast-LLM GPT model, a"
        + " transformer in every layer; written as block_pattern: [transformer]");
    return new HybridLayout(List.of(LayoutLetter.TRANSFORMER), false);
  }

  private void checkLength(Translation translation, String path, OptionalInt numLayers) {
    if (numLayers.isPresent() && numLayers.getAsInt() % pattern.size() != 0) {
      translation.error(path, "has " + pattern.size() + " entries, which do not divide num_layers "
          + numLayers.getAsInt() + "; Fast-LLM rejected such layouts (it repeats a layout a whole number of times)");
    }
  }

  private void warnDeprecated(Translation translation, String path) {
    String names = letters().stream()
        .map(l -> l.letter() + " -> " + l.blockName())
        .collect(Collectors.joining(", "));
    translation.warn(path, "hybrid_block_layout is deprecated; write model.block_pattern with block names ("
        + names + ")");
  }
}
