package org.fastllm.properties;

import java.util.ArrayList;
import java.util.List;

/**
 * Generators of configs in the old Fast-LLM hybrid format: global {@code transformer:} and {@code ssm:} sections and
 * a {@code hybrid_block_layout} of {@code t, m, m2, m2d}, either directly under {@code model} or under
 * {@code model.base_model} as Fast-LLM wrote them.
 *
 * <pre>{@code
 * model:
 *   transformer: {num_layers: 4, hidden_size: 64, num_attention_heads: 4, head_groups: 2}
 *   ssm: {state_size: 16}
 *   hybrid_block_layout: [t, m2d, t, m2d]
 * }</pre>
 *
 * <p>Sizes are chosen so every layer kind validates: hidden a multiple of 32, heads dividing it, head groups
 * dividing the heads, state sizes dividing d_inner (2 x hidden), v-heads dividing d_inner and a multiple of qk-heads.
 */
public final class LegacyConfigs {
  private static final List<String> LAYER_CODES = List.of("t", "m", "m2", "m2d");

  /** The legacy text and its layout, one code per layer. */
  public record Legacy(String yaml, List<String> layout) {
    @Override
    public String toString() {
      return yaml;
    }
  }

  private LegacyConfigs() {}

  public static Arbitrary<Legacy> configs() {
    return d -> {
      int hidden = 32 * d.between(1, 4);
      int heads = d.pick(List.of(1, 2, 4, 8));
      int groups = d.pick(ConfigGenerators.divisors(heads));
      int layers = d.between(1, 12);
      List<String> layout = new ArrayList<>();
      for (int i = 0; i < layers; i++) {
        layout.add(d.pick(LAYER_CODES));
      }
      StringBuilder section = new StringBuilder();
      section.append("transformer:\n")
          .append("  num_layers: ").append(layers).append('\n')
          .append("  hidden_size: ").append(hidden).append('\n')
          .append("  num_attention_heads: ").append(heads).append('\n')
          .append("  head_groups: ").append(groups).append('\n');
      section.append("ssm:\n")
          .append("  state_size: ").append(d.pick(List.of(4, 8, 16))).append('\n');
      if (layout.contains("m2d")) {
        int qk = d.pick(List.of(1, 2, 4));
        section.append("  n_qk_heads: ").append(qk).append('\n')
            .append("  n_v_heads: ").append(qk * d.pick(List.of(1, 2))).append('\n');
      }
      section.append("hybrid_block_layout: [").append(String.join(", ", layout)).append("]\n");
      if (d.bool()) {
        section.append("vocab_size: ").append(d.between(1, 1000)).append('\n');
      }
      if (d.bool()) {
        section.append("tie_word_embeddings: ").append(d.bool()).append('\n');
      }
      boolean underBaseModel = d.bool();
      String indent = underBaseModel ? "    " : "  ";
      String body = section.toString().lines().map(l -> indent + l).reduce("", (a, l) -> a + l + "\n");
      return new Legacy("model:\n" + (underBaseModel ? "  base_model:\n" : "") + body, layout);
    };
  }
}
