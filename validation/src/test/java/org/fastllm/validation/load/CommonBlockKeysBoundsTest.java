package org.fastllm.validation.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.kind.BlockPlugin;
import org.fastllm.dsl.kind.CoreBlocksPlugin;
import org.fastllm.dsl.layout.BlockTensors;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.ReadLimits;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The keys every block has are bounded once, for every kind: a plugin kind whose record declares no constraint at
 * all gets the core kinds' checks and messages, on the same flat paths. Each case runs over the core kinds and such
 * a plugin kind, {@code bare}.
 */
class CommonBlockKeysBoundsTest {

  /** A plugin kind as a careless author might write it: one key of its own, not a single constraint. */
  @Block(kind = "bare", description = "a norm, an MLP and one projection; tests only")
  record BareBlockConfig(CommonBlockKeys common, Integer width) implements BlockConfig {
    private static final CommonBlockKeys.KindDefaults KIND_DEFAULTS =
        new CommonBlockKeys.KindDefaults(true, List.of("proj"));

    @Override
    public BareBlockConfig withDefaults(ModelDefaults model) {
      return new BareBlockConfig(common.withDefaults(model, KIND_DEFAULTS), width != null ? width : 8);
    }
  }

  static final class BarePlugin extends BlockPlugin {
    @Override
    protected void configure() {
      addKind(BareBlockConfig.class, c -> BlockTensors.around(c,
          BlockTensors.linear("mixer.proj", c.hiddenSize(), c.hiddenSize(), c.addLinearBiases())));
    }
  }

  static final ConfigLoader LOADER = new ConfigLoader(
      BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin(), new BarePlugin())), List.of(), ReadLimits.DEFAULT);

  /** The kind and the keys of its own a block needs to be valid, as written after {@code kind: }. */
  static final List<String> KINDS = List.of("transformer", "ssm, variant: mamba1", "bare");

  /** A common key written out of bounds, the key the problem is placed at, and the exact message. */
  static Stream<Arguments> outOfBounds() {
    return Stream.of(
        Arguments.of("lr_scale: -1", "lr_scale", "lr_scale: must be at least 0 (0 freezes the block), got -1.0"),
        Arguments.of("dropout: 1", "dropout", "dropout: must be below 1, got 1.0"),
        Arguments.of("dropout: -0.5", "dropout", "dropout: must be at least 0, got -0.5"),
        Arguments.of("ffn_hidden_size: -1", "ffn_hidden_size",
            "ffn_hidden_size: must be at least 0 (0 leaves the MLP out), got -1"),
        Arguments.of("normalization: {epsilon: 0}", "epsilon",
            "normalization.epsilon: must be greater than 0, got 0.0"),
        Arguments.of("lora: {rank: 0}", "rank", "lora.rank: must be at least 1, got 0"),
        Arguments.of("lr_scal: 1", "lr_scal", "lr_scal: unknown key 'lr_scal' (did you mean 'lr_scale'?)"))
        .flatMap(c -> KINDS.stream().map(kind -> Arguments.of(kind, c.get()[0], c.get()[1], c.get()[2])));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("outOfBounds")
  void load_commonKeyOutOfBounds_sameProblemForEveryKind(String kind, String key, String placedAt, String message) {
    String block = "{kind: " + kind + ", " + key + "}";

    assertThat(errors(block)).containsExactly(
        "m.yaml:4:" + column(block, placedAt) + ": model.blocks.a." + message);
  }

  /** The LoRA rule of every block (targets the kind's layout has) reaches a plugin kind that never asked for it. */
  @Test
  void load_loraTargetThePluginKindLacks_namesItsLinears() {
    String block = "{kind: bare, lora: {rank: 2, targets: [query]}}";

    assertThat(errors(block)).containsExactly("m.yaml:4:" + column(block, "query")
        + ": model.blocks.a.lora.targets[0]: 'query' is not a linear layer of this bare block"
        + " (it has: proj, layer_1, layer_2)");
  }

  @Test
  void load_commonKeysOfThePluginKind_areResolvedFlat() {
    LoadedConfig config = LOADER.load("m.yaml", model("{kind: bare, lr_scale: 0.5, lora: {rank: 2}, width: 3}"));

    BareBlockConfig block = (BareBlockConfig) config.model().blocks().get("a");
    assertThat(block.lrScale()).isEqualTo(0.5);
    assertThat(block.lora().targets()).containsExactly("proj");
    assertThat(block.addLinearBiases()).isTrue();
    assertThat(block.width()).isEqualTo(3);
  }

  static String model(String block) {
    return """
        model:
          hidden_size: 64
          blocks:
            a: %s
          block_pattern: [a]
          num_layers: 2
        """.formatted(block);
  }

  /** The column of {@code key} in the block's line, {@code "    a: "} coming first. */
  static int column(String block, String key) {
    return ("    a: " + block).indexOf(key) + 1;
  }

  static List<String> errors(String block) {
    try {
      LOADER.load("m.yaml", model(block));
    } catch (InvalidConfigException e) {
      return e.errors().stream().map(Problem::render).toList();
    }
    throw new AssertionError("expected the block to be rejected: " + block);
  }
}
