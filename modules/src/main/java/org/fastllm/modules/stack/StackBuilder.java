package org.fastllm.modules.stack;

import org.fastllm.modules.plugin.LayerFactories;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.count.AdapterTensors;
import org.fastllm.dsl.count.ModelTensors;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.ParameterInit;
import org.fastllm.modules.lora.LoraAdapters;
import org.fastllm.modules.norm.Normalization;

/**
 * Builds a {@link LanguageModel} from a resolved, valid model config, with the kernel choices of
 * {@code training.kernels}.
 *
 * <pre>{@code
 * // given ConfigDocument config
 * LanguageModel model = StackBuilder.installed().build(config.model().withDefaults(), config.training().kernels());
 * }</pre>
 *
 * <p>Each model gets a {@link LayerContext} of its own (its backward tape, its kernel report), which its layers
 * are built with.
 *
 * <p><b>A block with {@code shared_weights: true} is built once and the same module runs at each of its layers.</b>
 * LoRA: adapters live in the block (shared with it), except on a shared block with {@code per_use: true}, where each
 * use gets its own adapters under {@code adapters.<layer>}. {@code freeze_base} and {@code lr_scale: 0} turn off
 * gradients of the block's own weights.
 */
public final class StackBuilder {
  private final LayerFactories factories;
  private final BlockKindRegistry kinds;
  private final KernelImplementations implementations;

  public StackBuilder(LayerFactories factories, BlockKindRegistry kinds) {
    this(factories, kinds, KernelImplementations.STANDARD);
  }

  private StackBuilder(LayerFactories factories, BlockKindRegistry kinds, KernelImplementations implementations) {
    this.factories = factories;
    this.kinds = kinds;
    this.implementations = implementations;
  }

  /** A builder over every installed kind and layer factory. */
  public static StackBuilder installed() {
    return new StackBuilder(LayerFactories.installed(), BlockKindRegistry.installed());
  }

  /** This builder, its models' layers using {@code implementations} of the kernel contracts (tests' CPU twins). */
  public StackBuilder withKernels(KernelImplementations implementations) {
    return new StackBuilder(factories, kinds, implementations);
  }

  /** Builds the model with every kernel at its default choice ({@link KernelsConfig#DEFAULTS}). */
  public LanguageModel build(ResolvedModel resolved) {
    return build(resolved, KernelsConfig.DEFAULTS.withDefaults());
  }

  /**
   * Builds the model, its layers choosing kernels as {@code kernels} (a resolved {@code training.kernels}) says.
   *
   * @throws IllegalArgumentException before any tensor exists, when a block's LoRA targets name a layer it lacks
   *     (a config that passed validation never does)
   */
  public LanguageModel build(ResolvedModel model, KernelsConfig kernels) {
    ModelConfig resolved = model.config();
    refuseUnknownTargets(resolved);
    LayerContext context = LayerContext.of(kernels, implementations);
    long hidden = resolved.hiddenSize();
    long vocab = resolved.vocabSize();
    Map<String, Block> sharedBlocks = new HashMap<>();
    List<Block> layers = new ArrayList<>();
    List<String> blockNames = new ArrayList<>();
    List<Adapters> useAdapters = new ArrayList<>();
    List<Module> adapterModules = new ArrayList<>();
    Map<String, ParameterRole> roles = new HashMap<>();
    for (LayerPlan layer : BlockPattern.expand(resolved).layers()) {
      BlockConfig config = layer.config();
      Block block = layer.shared()
          ? sharedBlocks.computeIfAbsent(layer.blockName(), name -> buildBlock(config, context))
          : buildBlock(config, context);
      layers.add(block);
      blockNames.add(layer.blockName());
      LoraConfig lora = config.lora();
      if (lora != null && layer.shared() && lora.perUse()) {
        LoraAdapters adapters = LoraAdapters.of(lora, tensors(config));
        useAdapters.add(adapters);
        adapterModules.add(adapters);
        roleOfAdapters("adapters." + layer.index() + ".", lora, config, roles);
      } else {
        useAdapters.add(Adapters.NONE);
        adapterModules.add(null);
      }
      for (TensorSpec t : tensors(config)) {
        roles.put("layers." + layer.index() + "." + t.name(), new ParameterRole(t.weightDecay(), config.lrScale()));
      }
      if (lora != null && !(layer.shared() && lora.perUse())) {
        roleOfAdapters("layers." + layer.index() + ".lora.", lora, config, roles);
      }
    }
    for (TensorSpec t : ModelTensors.of(resolved, kinds)) {
      roles.putIfAbsent(t.name(), new ParameterRole(t.weightDecay(), 1.0));
    }
    TableModule word = new TableModule(ParameterInit.normal(1.0 / Math.sqrt(hidden), vocab, hidden));
    TableModule position = resolved.positionEmbeddings()
        ? new TableModule(ParameterInit.normal(1.0 / Math.sqrt(hidden), resolved.maxSequenceLength(), hidden))
        : null;
    TableModule output = resolved.tiedEmbeddingWeight()
        ? null
        : new TableModule(ParameterInit.normal(1.0 / Math.sqrt(hidden), vocab, hidden));
    return new LanguageModel(word, position, layers, blockNames, useAdapters, adapterModules,
        Normalization.of(resolved.normalization(), hidden, context), output, roles, context);
  }

  private void refuseUnknownTargets(ModelConfig resolved) {
    List<String> problems = new ArrayList<>();
    resolved.blocks().forEach((name, config) -> {
      if (config.lora() == null) {
        return;
      }
      List<TensorSpec> blockTensors = tensors(config);
      List<String> targets = config.lora().targets();
      for (int i = 0; i < targets.size(); i++) {
        if (AdapterTensors.linearWeight(blockTensors, targets.get(i)) == null) {
          problems.add("model.blocks." + name + ".lora.targets[" + i + "]: '" + targets.get(i)
              + "' is not a linear layer of this " + config.kind() + " block (it has: "
              + String.join(", ", AdapterTensors.linearLayers(blockTensors)) + ")");
        }
      }
    });
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("\n", problems));
    }
  }

  private Block buildBlock(BlockConfig config, LayerContext context) {
    Block block = Block.of(config, factories.factory(config.kind()), context);
    LoraConfig lora = config.lora();
    if (config.lrScale() == 0.0 || (lora != null && lora.freezeBase())) {
      freeze(block);
    }
    if (lora != null && !(config.isShared() && lora.perUse())) {
      block.attach(LoraAdapters.of(lora, tensors(config)));
    }
    return block;
  }

  private List<TensorSpec> tensors(BlockConfig config) {
    return kinds.kind(config.kind()).tensors(config);
  }

  private static void freeze(Module module) {
    TensorVector params = module.parameters(true);
    for (long i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      p.set_requires_grad(false);
    }
  }

  private static void roleOfAdapters(String prefix, LoraConfig lora, BlockConfig config,
      Map<String, ParameterRole> roles) {
    double scale = config.lrScale() == 0.0 ? 1.0 : config.lrScale();
    for (String target : lora.targets()) {
      roles.put(prefix + target + ".a", new ParameterRole(false, scale));
      roles.put(prefix + target + ".b", new ParameterRole(false, scale));
    }
  }
}
