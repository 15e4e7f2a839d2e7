package org.fastllm.properties;

import static org.fastllm.properties.Draw.of;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.AttentionType;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DtRank;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.RotaryConfig;
import org.fastllm.dsl.config.RotaryType;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Generators of tiny valid models for decoding: every built-in mixer (attention as MHA, GQA or MQA, with or without
 * rotary and sliding windows a few positions wide; mamba1, mamba2, discrete_mamba2 with chunks of a few steps),
 * mixed in one stack, with shared blocks and LoRA (per use on shared blocks).
 *
 * <pre>{@code ConfigDocument doc = DecodingModels.documents().next(Draw.from(new Random(3)));}</pre>
 *
 * <p><b>Every attention block is causal and every size is small</b>, so that a model decodes what its full forward
 * computes and a property checks dozens of models in seconds. The longest sequence is {@link #MAX_LENGTH}.
 */
final class DecodingModels {
  /** Positions a generated model is built for (its position embeddings, where it has them). */
  static final int MAX_LENGTH = 24;
  private static final List<String> NAMES = List.of("ann", "ben", "cid", "dot");
  private static final List<String> ATTENTION_LINEARS = List.of("query", "key_value", "dense");
  private static final List<String> SSM_LINEARS = List.of("in_proj", "out_proj");
  private static final List<String> MLP_LINEARS = List.of("layer_1", "layer_2");

  private DecodingModels() {}

  /** Valid documents of tiny models, shown as their YAML. */
  static Arbitrary<ConfigDocument> documents() {
    return draw -> new ConfigDocument(model(draw));
  }

  static ModelConfig model(Draw d) {
    int hidden = 8 * d.between(1, 2);
    List<String> names = NAMES.subList(0, d.between(1, NAMES.size()));
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    for (String name : names) {
      blocks.put(name, block(d, hidden));
    }
    List<String> pattern = new ArrayList<>();
    int patternLength = d.between(1, 4);
    for (int i = 0; i < patternLength; i++) {
      pattern.add(d.pick(names));
    }
    boolean positions = d.chance(30);
    return new ModelConfig(hidden, d.between(8, 40), d.bool(), d.maybe(50, () -> normalization(d)), blocks, pattern,
        d.between(1, 5), positions ? MAX_LENGTH : null, positions);
  }

  private static BlockConfig block(Draw d, int hidden) {
    return switch (d.between(0, 3)) {
      case 0 -> ssm(d, hidden, SsmVariant.MAMBA1);
      case 1 -> ssm(d, hidden, SsmVariant.MAMBA2);
      case 2 -> ssm(d, hidden, SsmVariant.DISCRETE_MAMBA2);
      default -> attention(d, hidden);
    };
  }

  private static CommonBlockKeys common(Draw d, List<String> mixerLinears) {
    boolean shared = d.chance(60);
    Integer ffn = d.pick(of(null, 0, 4 * d.between(1, 6)));
    List<String> linears = new ArrayList<>(mixerLinears);
    if (ffn == null || ffn > 0) {
      linears.addAll(MLP_LINEARS);
    }
    LoraConfig lora = d.chance(60) ? new LoraConfig(d.between(1, 3), d.maybe(50, () -> 0.5 * d.between(1, 8)),
        d.pick(of(null, 0.0, 0.1)), d.someOf(linears), d.maybeBool(), shared ? d.bool() : null) : null;
    return new CommonBlockKeys(shared, null, d.maybe(30, () -> normalization(d)), ffn, d.maybeBool(),
        d.maybe(30, () -> d.pick(List.of(Activation.values()))), null, d.pick(of(null, 0.0, 0.25)), lora,
        d.maybeBool());
  }

  private static NormalizationConfig normalization(Draw d) {
    return new NormalizationConfig(d.pick(List.of(NormType.values())), d.maybe(50, () -> d.pick(List.of(1e-5, 1e-3))));
  }

  private static TransformerBlockConfig attention(Draw d, int hidden) {
    CommonBlockKeys c = common(d, ATTENTION_LINEARS);
    int heads = d.pick(List.of(1, 2, 4));
    Integer headSize = d.chance(30) ? 2 * d.between(1, 4) : null; // even, as rotary needs
    if (headSize == null && (hidden / heads) % 2 != 0) {
      headSize = 2;
    }
    AttentionType type;
    int groups;
    switch (d.between(0, 2)) {
      case 0 -> {
        type = AttentionType.MHA;
        groups = heads;
      }
      case 1 -> {
        type = AttentionType.MQA;
        groups = 1;
      }
      default -> {
        type = heads == 4 ? AttentionType.GQA : AttentionType.MQA;
        groups = heads == 4 ? 2 : 1;
      }
    }
    boolean sliding = d.chance(40);
    Integer window = sliding ? d.between(1, 6) : null;
    RotaryConfig rotary = new RotaryConfig(d.pick(List.of(RotaryType.values())),
        d.maybe(50, () -> d.pick(List.of(100.0, 10000.0))));
    return new TransformerBlockConfig(c, type, heads, groups, headSize, sliding, window, null, rotary,
        d.pick(of(null, true)), d.maybeBool());
  }

  private static SsmBlockConfig ssm(Draw d, int hidden, SsmVariant variant) {
    CommonBlockKeys c = common(d, SSM_LINEARS);
    Integer conv = d.maybe(70, () -> d.between(1, 4));
    return switch (variant) {
      case MAMBA1 -> new SsmBlockConfig(c, variant, d.pick(List.of(1, 2, 4)), d.between(1, 2), null, dtRank(d),
          conv, null, null, null, null, null);
      case MAMBA2 -> {
        int state = d.pick(List.of(2, 4));
        int inner = hidden * d.between(1, 2);
        int heads = inner / state;
        yield new SsmBlockConfig(c, variant, state, null, inner, dtRank(d), conv,
            state * d.pick(ConfigGenerators.divisors(heads)), d.maybeBool(), null, null, null);
      }
      default -> {
        int qk = d.pick(List.of(1, 2));
        int v = qk * d.between(1, 2);
        yield new SsmBlockConfig(c, variant, d.between(1, 4), null, v * d.between(1, 4), null, conv, null, null,
            qk, v, d.between(1, 5));
      }
    };
  }

  private static DtRank dtRank(Draw d) {
    return d.pick(of(null, DtRank.AUTO, new DtRank(d.between(1, 4))));
  }
}
