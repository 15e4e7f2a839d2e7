package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.quicktheories.QuickTheory.qt;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.AdamW;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.javacpp.PointerScope;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.DtRank;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.dsl.count.ModelTensors;
import org.fastllm.dsl.count.ParameterAccounting;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.impl.Constraint;

class StackBuilderTest {
  static final int HIDDEN = 16;

  static TransformerBlockConfig attention(String type, int heads, Integer groups, boolean shared, Integer window,
      boolean biases, int ffn, LoraConfig lora) {
    return attention(type, heads, groups, shared, window, biases, ffn, lora, null);
  }

  static TransformerBlockConfig attention(String type, int heads, Integer groups, boolean shared, Integer window,
      boolean biases, int ffn, LoraConfig lora, Double lrScale) {
    return new TransformerBlockConfig(new CommonBlockKeys(shared, null, null, ffn, null, null, lrScale, null, lora,
        biases), org.fastllm.dsl.config.AttentionType.valueOf(type), heads, groups, null, window != null, window, true,
        null, null, null);
  }

  static SsmBlockConfig ssm(SsmVariant variant, boolean shared, boolean gated, int ffn) {
    return ssm(variant, shared, gated, ffn, null, null);
  }

  static SsmBlockConfig ssm(SsmVariant variant, boolean shared, boolean gated, int ffn, LoraConfig lora,
      Double lrScale) {
    boolean standard = variant == SsmVariant.MAMBA2_STANDARD;
    return new SsmBlockConfig(new CommonBlockKeys(shared, null, null, ffn, gated, null, lrScale, null, lora, null),
        variant, 4, null, 16, variant == SsmVariant.DISCRETE_MAMBA2 || standard ? null : new DtRank(4), null,
        variant == SsmVariant.MAMBA2 ? 8 : null, null, variant == SsmVariant.DISCRETE_MAMBA2 ? 2 : null,
        variant == SsmVariant.DISCRETE_MAMBA2 ? 4 : null, variant == SsmVariant.DISCRETE_MAMBA2 || standard ? 8 : null,
        standard ? 4 : null, standard ? 2 : null, standard ? Boolean.valueOf(!gated) : null);
  }

  static ResolvedModel model(Map<String, BlockConfig> blocks, List<String> pattern, int layers, boolean tied,
      boolean positions, NormType norm) {
    return new ModelConfig(HIDDEN, 32, tied, new NormalizationConfig(norm, 1e-5), blocks, pattern, layers, 64,
        positions).withDefaults();
  }

  /** The seed's second example, scaled down. */
  static ResolvedModel seedExample(int hidden) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("alice", attention("MQA", 4, null, false, null, true, 2 * hidden, null));
    blocks.put("bob", attention("GQA", 4, 2, true, 8, true, 2 * hidden, null));
    blocks.put("claire", ssm(SsmVariant.MAMBA1, false, false, 2 * hidden));
    blocks.put("dave", ssm(SsmVariant.DISCRETE_MAMBA2, false, true, 2 * hidden));
    return new ModelConfig(hidden, 64, false, null, blocks, List.of("alice", "bob", "claire", "dave", "bob"), 15, 64,
        false).withDefaults();
  }

  /** The linear layers of each generated kind's mixer: transformer, then the ssm variants in declaration order. */
  static final List<List<String>> MIXER_LINEARS = List.of(List.of("query", "key_value", "dense"),
      List.of("in_proj", "x_proj", "dt_proj", "out_proj"), List.of("in_proj", "dt_in_proj", "dt_proj", "out_proj"),
      List.of("in_proj", "out_proj"), List.of("in_proj", "out_proj"));

  /** Configs of 1 to 3 blocks of every kind, shared or not, half of them with LoRA (per use on shared blocks). */
  static final Gen<ResolvedModel> MODELS = in -> {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    int count = (int) in.next(Constraint.between(1, 3));
    for (int i = 0; i < count; i++) {
      boolean shared = in.next(Constraint.between(0, 1)) == 1;
      int ffn = (int) in.next(Constraint.between(0, 1)) * 24;
      int kind = (int) in.next(Constraint.between(0, 4));
      LoraConfig lora = in.next(Constraint.between(0, 1)) == 1 ? lora(in, kind, ffn > 0, shared) : null;
      Double lrScale = in.next(Constraint.between(0, 3)) == 0 ? 0.0 : null;
      blocks.put("b" + i, kind == 0
          ? attention("GQA", 4, 2, shared, null, in.next(Constraint.between(0, 1)) == 1, ffn, lora, lrScale)
          : ssm(SsmVariant.values()[kind - 1], shared, in.next(Constraint.between(0, 1)) == 1, ffn, lora, lrScale));
    }
    List<String> pattern = List.copyOf(blocks.keySet());
    return model(blocks, pattern, (int) in.next(Constraint.between(1, 5)), in.next(Constraint.between(0, 1)) == 1,
        in.next(Constraint.between(0, 1)) == 1,
        in.next(Constraint.between(0, 1)) == 1 ? NormType.RMS_NORM : NormType.LAYER_NORM);
  };

  /** A non-empty subset of the kind's linear layers as targets; per_use only where sharing allows it. */
  static LoraConfig lora(org.quicktheories.core.RandomnessSource in, int kind, boolean mlp, boolean shared) {
    List<String> linears = new java.util.ArrayList<>(MIXER_LINEARS.get(kind));
    if (mlp) {
      linears.addAll(List.of("layer_1", "layer_2"));
    }
    long mask = in.next(Constraint.between(1, (1L << linears.size()) - 1));
    List<String> targets = java.util.stream.IntStream.range(0, linears.size())
        .filter(bit -> (mask >> bit & 1) == 1).mapToObj(linears::get).toList();
    return new LoraConfig((int) in.next(Constraint.between(1, 3)), null, null, targets,
        in.next(Constraint.between(0, 1)) == 1, shared && in.next(Constraint.between(0, 1)) == 1);
  }

  @Test
  void uniqueParameters_generatedConfigs_equalConfigOnlyLayout() {
    qt().withExamples(40).withShrinkCycles(0).forAll(MODELS).checkAssert(config -> {
      LanguageModel built = StackBuilder.installed().build(config);
      List<TensorSpec> expected = ModelTensors.of(config.config(), BlockKindRegistry.installed());
      Map<String, List<Long>> expectedShapes = new LinkedHashMap<>();
      expected.forEach(t -> expectedShapes.put(t.name(), t.shape()));
      Map<String, List<Long>> builtShapes = new LinkedHashMap<>();
      built.uniqueParameters().forEach(p -> builtShapes.put(p.name(),
          java.util.Arrays.stream(Torch.shape(p.tensor())).boxed().toList()));
      assertThat(new java.util.TreeMap<>(builtShapes))
          .as(config.toString())
          .isEqualTo(new java.util.TreeMap<>(expectedShapes));
      assertThat(built.uniqueParameters().size()).as("no name repeats").isEqualTo(expected.size());

      ModelCount count = ParameterAccounting.count(BlockPattern.expand(config.config()),
          BlockKindRegistry.installed());
      assertThat(built.parameterCount()).as(config.toString()).isEqualTo(count.total());
      assertThat(built.uniqueParameters().stream().filter(StackBuilderTest::isAdapter)
          .mapToLong(p -> p.tensor().numel()).sum()).as("lora of " + config).isEqualTo(count.lora());
      assertThat(built.uniqueParameters().stream().filter(NamedParameter::trainable)
          .mapToLong(p -> p.tensor().numel()).sum()).as("trainable of " + config).isEqualTo(count.trainable());
    });
  }

  static boolean isAdapter(NamedParameter p) {
    return p.name().startsWith("adapters.") || p.name().contains(".lora.");
  }

  @Test
  void build_loraTargetTheBlockLacks_refusedBeforeAllocating() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("claire", ssm(SsmVariant.MAMBA1, false, false, 0,
        new LoraConfig(2, null, null, List.of("in_proj", "query"), null, null), null));
    ResolvedModel config = model(blocks, List.of("claire"), 2, false, false, NormType.RMS_NORM);
    IllegalArgumentException refused = catchThrowableOfType(IllegalArgumentException.class,
        () -> StackBuilder.installed().build(config));
    assertThat(refused).as("expected IllegalArgumentException to be thrown").isNotNull();
    assertThat(refused.getMessage())
        .isEqualTo("model.blocks.claire.lora.targets[1]: 'query' is not a linear layer of this ssm block"
            + " (it has: in_proj, x_proj, dt_proj, out_proj)");
  }

  @Test
  void backward_sharedBlock_gradientIsSumOfUnsharedTwinUses() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("a", ssm(SsmVariant.MAMBA2, false, false, 24));
    blocks.put("s", attention("GQA", 4, 2, true, 3, true, 24, null));
    ResolvedModel shared = model(blocks, List.of("s", "a", "s"), 5, false, true, NormType.RMS_NORM);
    Map<String, BlockConfig> twinBlocks = new LinkedHashMap<>(blocks);
    twinBlocks.put("s", attention("GQA", 4, 2, false, 3, true, 24, null));
    ResolvedModel unshared = model(twinBlocks, List.of("s", "a", "s"), 5, false, true, NormType.RMS_NORM);
    LanguageModel model = StackBuilder.installed().build(shared);
    LanguageModel twin = StackBuilder.installed().build(unshared);
    model.to(torch.ScalarType.Double, false);
    twin.to(torch.ScalarType.Double, false);
    // Pattern [s, a, s] over 5 layers puts s at 0, 2 and 3.
    Map<String, Tensor> sharedParams = Torch.parameters(model);
    try (NoGradGuard guard = new NoGradGuard()) {
      Torch.parameters(twin).forEach((name, p) -> p.copy_(sharedParams.get(name)));
    }
    Tensor tokens = torch.randint(32, new long[] {2, 7}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
    model.loss(tokens, tokens).backward();
    twin.loss(tokens, tokens).backward();
    Map<String, Tensor> twinParams = Torch.parameters(twin);
    for (NamedParameter p : model.uniqueParameters()) {
      Tensor expected = twinParams.get(p.name()).grad();
      if (p.name().startsWith("layers.0.")) {
        String rest = p.name().substring("layers.0.".length());
        expected = expected.add(twinParams.get("layers.2." + rest).grad()).add(twinParams.get("layers.3." + rest).grad());
      }
      assertThat(Torch.relativeError(p.tensor().grad(), expected, 1e-12) < 1e-9).as(p.name()).isTrue();
    }
    long sharedTensorCount = model.uniqueParameters().stream().filter(p -> p.name().startsWith("layers.0.")).count();
    assertThat(model.uniqueParameters().size()).isEqualTo(Torch.parameters(model).size() - 2 * sharedTensorCount);
    assertThat(model.trainableTensors().size()).isEqualTo(model.uniqueParameters().size());
  }

  @Test
  void adamW_seedExampleScaledDown_lossIsFiniteAndFalls() {
    Torch.seed(7);
    LanguageModel model = StackBuilder.installed().build(seedExample(64));
    assertThat(model.numLayers()).isEqualTo(15);
    assertThat(model.layer(1) == model.layer(4) && model.layer(4) == model.layer(6)).as("bob is one module").isTrue();
    assertLossFalls(model);
  }

  /** The seed's first example (one MQA block, 16 heads, 48 layers) at hidden 64 instead of 4096. */
  @Test
  void adamW_oneBlockSeedScaledDown_lossIsFiniteAndFalls() {
    Torch.seed(8);
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("default_transformer", attention("MQA", 16, null, false, null, true, 256, null));
    ResolvedModel model = new ModelConfig(64, 64, false, null, blocks, List.of("default_transformer"), 48, 64, false)
        .withDefaults();
    LanguageModel built = StackBuilder.installed().build(model);
    assertThat(built.numLayers()).isEqualTo(48);
    assertLossFalls(built);
  }

  private static void assertLossFalls(LanguageModel model) {
    AdamWOptions options = new AdamWOptions(3e-3);
    AdamW optimizer = new AdamW(model.trainableTensors(), options);
    Tensor tokens = torch.randint(64, new long[] {2, 33}, new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Long));
    Tensor inputs = tokens.narrow(1, 0, 32);
    Tensor targets = tokens.narrow(1, 1, 32);
    double first = Double.NaN;
    double last = Double.NaN;
    for (int step = 0; step < 8; step++) {
      try (PointerScope scope = new PointerScope()) {
        optimizer.zero_grad();
        Tensor loss = model.loss(inputs, targets);
        loss.backward();
        optimizer.step();
        last = loss.item_double();
        if (step == 0) {
          first = last;
        }
      }
      assertThat(Double.isFinite(last)).as("step " + step + " loss " + last).isTrue();
    }
    assertThat(last < first - 0.1).as("loss went from " + first + " to " + last).isTrue();
  }
}
