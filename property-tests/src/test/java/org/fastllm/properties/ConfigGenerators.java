package org.fastllm.properties;

import static org.fastllm.properties.Draw.of;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
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
 * Generators of valid configs as written: transformer and ssm blocks (all three variants) whose sizes divide as
 * validation requires, random patterns and {@code num_layers}, shared weights, LoRA and tied heads, with optional keys
 * sometimes written and sometimes left to their defaults.
 *
 * <pre>{@code ConfigDocument doc = ConfigGenerators.documents().next(Draw.from(new Random(7)));}</pre>
 *
 * <p><b>Every document generated here validates</b> (warnings aside, e.g. unused blocks or a pattern cut short).
 */
public final class ConfigGenerators {
  private static final List<String> NAMES = List.of("alice", "bob", "claire", "dave", "eve", "frank", "grace",
      "heidi", "ivan", "judy", "mallory", "_oscar", "peggy-2", "Trent_3");
  private static final List<String> TRANSFORMER_LINEARS = List.of("query", "key_value", "dense");
  private static final List<String> SSM_LINEARS = List.of("in_proj", "out_proj");
  private static final List<String> MLP_LINEARS = List.of("layer_1", "layer_2");

  /** Bounds on the size of generated models. */
  public record Sizes(int maxBlocks, int maxPatternLength, int maxLayers) {
    public static final Sizes SMALL = new Sizes(5, 8, 40);
  }

  private ConfigGenerators() {}

  /** Valid documents of {@link Sizes#SMALL} models, shown as their YAML. */
  public static Arbitrary<ConfigDocument> documents() {
    return documents(Sizes.SMALL);
  }

  public static Arbitrary<ConfigDocument> documents(Sizes sizes) {
    return draw -> new ConfigDocument(model(draw, sizes));
  }

  /** A valid model as written: absent keys are left null. */
  public static ModelConfig model(Draw d, Sizes sizes) {
    boolean modelGivesHidden = d.chance(80);
    int hidden = !modelGivesHidden && d.chance(30) ? ModelConfig.DEFAULT_HIDDEN_SIZE : 16 * d.between(1, 8);
    boolean someBlockMustGiveHidden = !modelGivesHidden && hidden != ModelConfig.DEFAULT_HIDDEN_SIZE;

    int blockCount = d.between(1, Math.min(sizes.maxBlocks(), NAMES.size()));
    List<String> names = distinctNames(d, blockCount);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    for (int i = 0; i < names.size(); i++) {
      boolean givesHidden = (i == 0 && someBlockMustGiveHidden) || d.chance(20);
      blocks.put(names.get(i), block(d, hidden, givesHidden));
    }
    List<String> pattern = new ArrayList<>();
    int patternLength = d.between(1, sizes.maxPatternLength());
    for (int i = 0; i < patternLength; i++) {
      pattern.add(d.pick(names));
    }
    return new ModelConfig(
        modelGivesHidden ? hidden : null,
        d.maybe(60, () -> d.between(1, 1000)),
        d.maybeBool(),
        d.maybe(30, () -> normalization(d)),
        blocks,
        pattern,
        d.between(1, sizes.maxLayers()),
        d.maybe(30, () -> d.between(1, 4096)),
        d.maybeBool());
  }

  private static List<String> distinctNames(Draw d, int count) {
    List<String> pool = new ArrayList<>(NAMES);
    List<String> names = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      names.add(pool.remove(d.between(0, pool.size() - 1)));
    }
    return names;
  }

  /** A valid block of a random kind for a model of residual width {@code hidden}. */
  public static BlockConfig block(Draw d, int hidden, boolean givesHidden) {
    return switch (d.between(0, 4)) {
      case 0 -> mamba1(d, hidden, givesHidden);
      case 1 -> mamba2(d, hidden, givesHidden);
      case 2 -> discreteMamba2(d, hidden, givesHidden);
      case 3 -> mamba2Standard(d, hidden, givesHidden);
      default -> transformer(d, hidden, givesHidden);
    };
  }

  /** The keys every block has; the LoRA targets depend on the kind's linear layers. */
  private static CommonBlockKeys common(Draw d, int hidden, boolean givesHidden, List<String> mixerLinears) {
    Boolean shared = d.maybeBool();
    Integer ffn = d.pick(of(null, 0, d.between(1, 256)));
    List<String> linears = new ArrayList<>(mixerLinears);
    if (ffn == null || ffn > 0) {
      linears.addAll(MLP_LINEARS);
    }
    return new CommonBlockKeys(
        shared,
        givesHidden ? hidden : null,
        d.maybe(30, () -> normalization(d)),
        ffn,
        d.maybeBool(),
        d.maybe(30, () -> d.pick(List.of(Activation.values()))),
        d.maybe(30, () -> d.pick(List.of(0.0, 0.5, 1.0, 1.5))),
        d.maybe(30, () -> d.pick(List.of(0.0, 0.1, 0.25))),
        d.maybe(30, () -> lora(d, linears, Boolean.TRUE.equals(shared))),
        d.maybeBool());
  }

  private static NormalizationConfig normalization(Draw d) {
    return new NormalizationConfig(d.maybe(70, () -> d.pick(List.of(NormType.values()))),
        d.maybe(50, () -> d.pick(List.of(1e-5, 1e-6, 0.001))));
  }

  private static LoraConfig lora(Draw d, List<String> linears, boolean shared) {
    int rank = d.between(1, 8);
    return new LoraConfig(
        rank,
        d.maybe(50, () -> (double) rank * d.between(1, 4)),
        d.maybe(30, () -> d.pick(List.of(0.0, 0.05))),
        d.maybe(70, () -> d.someOf(linears)),
        d.maybeBool(),
        shared ? d.maybeBool() : d.pick(of(null, false)));
  }

  public static TransformerBlockConfig transformer(Draw d, int hidden, boolean givesHidden) {
    CommonBlockKeys c = common(d, hidden, givesHidden, TRANSFORMER_LINEARS);
    Integer numHeads = d.maybe(85, () -> d.pick(List.of(1, 2, 3, 4, 5, 6, 8, 12, 16)));
    int heads = numHeads != null ? numHeads : TransformerBlockConfig.DEFAULT_NUM_HEADS;
    Integer headSize = hidden % heads != 0 || d.chance(20) ? d.between(1, 32) : null;
    List<Integer> properDivisors = divisors(heads).stream().filter(g -> g > 1 && g < heads).toList();
    AttentionType type;
    Integer groups;
    switch (d.between(0, 4)) {
      case 0 -> {
        type = AttentionType.MHA;
        groups = d.pick(of(null, heads));
      }
      case 1 -> {
        type = AttentionType.MQA;
        groups = d.pick(of(null, 1));
      }
      case 2 -> {
        type = properDivisors.isEmpty() ? AttentionType.MQA : AttentionType.GQA;
        boolean defaultApplies = heads % 4 == 0 && heads / 4 > 1;
        groups = properDivisors.isEmpty() ? null
            : defaultApplies && d.bool() ? null : d.pick(properDivisors);
      }
      case 3 -> { // attention_type inferred from head_groups
        type = null;
        groups = d.pick(divisors(heads));
      }
      default -> { // neither given: mqa
        type = null;
        groups = null;
      }
    }
    Boolean sliding = d.maybeBool();
    Integer window = Boolean.TRUE.equals(sliding) ? d.maybe(50, () -> d.between(1, 8192)) : null;
    RotaryConfig rotary = d.maybe(30, () -> new RotaryConfig(d.maybe(70, () -> d.pick(List.of(RotaryType.values()))),
        d.maybe(50, () -> d.pick(List.of(10000.0, 500000.0)))));
    return new TransformerBlockConfig(c, type, numHeads, groups, headSize, sliding, window, d.maybeBool(), rotary,
        d.maybeBool(), d.maybeBool());
  }

  /** The state size written (or null for the default 16) and the one in effect. */
  private record State(Integer written, int size) {}

  private static State state(Draw d) {
    Integer written = d.maybe(70, () -> d.pick(List.of(1, 2, 4, 8, 16)));
    return new State(written, written != null ? written : SsmBlockConfig.DEFAULT_STATE_SIZE);
  }

  /** How d_inner is given: expansion factor, explicitly, both (agreeing), or neither. */
  private record Inner(Integer expansionFactor, Integer dInner, int size) {}

  private static Inner innerFromExpansion(Draw d, int hidden) {
    Integer e = d.maybe(60, () -> d.between(1, 4));
    int size = (e != null ? e : SsmBlockConfig.DEFAULT_EXPANSION) * hidden;
    boolean alsoWriteInner = e != null && d.chance(20);
    return new Inner(e, alsoWriteInner ? size : null, size);
  }

  private static DtRank dtRank(Draw d) {
    return d.pick(of(null, DtRank.AUTO, new DtRank(d.between(1, 32))));
  }

  public static SsmBlockConfig mamba1(Draw d, int hidden, boolean givesHidden) {
    CommonBlockKeys c = common(d, hidden, givesHidden, SSM_LINEARS);
    State s = state(d);
    // state sizes divide 16 and every hidden size here is a multiple of 16, so any expansion works
    Inner inner = d.chance(70) ? innerFromExpansion(d, hidden) : explicitInner(s.size() * d.between(1, 64));
    return ssm(c, SsmVariant.MAMBA1, s.written(), inner, dtRank(d), d.maybe(30, () -> d.between(1, 8)),
        null, null, null, null, null);
  }

  public static SsmBlockConfig mamba2(Draw d, int hidden, boolean givesHidden) {
    CommonBlockKeys c = common(d, hidden, givesHidden, SSM_LINEARS);
    State s = state(d);
    Inner inner = d.chance(60) ? innerFromExpansion(d, hidden) : explicitInner(s.size() * d.between(1, 64));
    int heads = inner.size() / s.size();
    // d_xb defaults to hidden, which only works when hidden / state heads divide d_inner / state heads
    boolean defaultXbFits = heads % (hidden / s.size()) == 0;
    Integer dXb = defaultXbFits && d.bool() ? null : s.size() * d.pick(divisors(heads));
    return ssm(c, SsmVariant.MAMBA2, s.written(), inner, dtRank(d), d.maybe(30, () -> d.between(1, 8)),
        dXb, d.maybeBool(), null, null, null);
  }

  public static SsmBlockConfig discreteMamba2(Draw d, int hidden, boolean givesHidden) {
    CommonBlockKeys c = common(d, hidden, givesHidden, SSM_LINEARS);
    Integer qkWritten = d.maybe(60, () -> d.pick(List.of(1, 2, 4, 8)));
    int qk = qkWritten != null ? qkWritten : SsmBlockConfig.DEFAULT_QK_HEADS;
    Integer vWritten = qkWritten == null && d.bool() ? null : d.maybe(70, () -> qk * d.between(1, 4));
    if (vWritten == null && SsmBlockConfig.DEFAULT_V_HEADS % qk != 0) {
      vWritten = qk;
    }
    int v = vWritten != null ? vWritten : SsmBlockConfig.DEFAULT_V_HEADS;
    Inner inner = innerFromExpansion(d, hidden);
    if (inner.size() % v != 0 || d.chance(30)) {
      inner = explicitInner(v * d.between(1, 8));
    }
    return ssm(c, SsmVariant.DISCRETE_MAMBA2, d.maybe(50, () -> d.between(1, 16)), inner, null,
        d.maybe(30, () -> d.between(1, 8)), null, null, qkWritten, vWritten, d.maybe(30, () -> d.pick(List.of(64, 256))));
  }

  public static SsmBlockConfig mamba2Standard(Draw d, int hidden, boolean givesHidden) {
    CommonBlockKeys c = common(d, hidden, givesHidden, SSM_LINEARS);
    Integer sizeWritten = d.maybe(70, () -> d.pick(List.of(8, 16, 32, 64)));
    int size = sizeWritten != null ? sizeWritten : SsmBlockConfig.DEFAULT_HEAD_SIZE;
    Inner inner = innerFromExpansion(d, hidden);
    if (inner.size() % size != 0 || d.chance(30)) {
      inner = explicitInner(size * d.between(1, 8));
    }
    int heads = inner.size() / size;
    return new SsmBlockConfig(c, SsmVariant.MAMBA2_STANDARD, d.maybe(50, () -> d.between(1, 16)),
        inner.expansionFactor(), inner.dInner(), null, d.maybe(30, () -> d.between(1, 8)), null, null, null, null,
        d.maybe(30, () -> d.pick(List.of(64, 256))), sizeWritten, d.maybe(60, () -> d.pick(divisors(heads))),
        d.maybeBool());
  }

  private static Inner explicitInner(int size) {
    return new Inner(null, size, size);
  }

  private static SsmBlockConfig ssm(CommonBlockKeys c, SsmVariant variant, Integer stateSize, Inner inner,
      DtRank dtRank, Integer conv, Integer dXb, Boolean repeatKv, Integer qk, Integer v, Integer chunk) {
    return new SsmBlockConfig(c, variant, stateSize, inner.expansionFactor(), inner.dInner(), dtRank, conv, dXb,
        repeatKv, qk, v, chunk);
  }

  static List<Integer> divisors(int n) {
    return IntStream.rangeClosed(1, n).filter(i -> n % i == 0).boxed().toList();
  }
}
