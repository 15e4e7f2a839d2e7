package org.fastllm.modules.stack;

import org.fastllm.modules.plugin.LayerFactories;
import org.fastllm.modules.plugin.LayerFactory;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.SequenceLayer;
import org.fastllm.modules.mlp.Mlp;
import org.fastllm.modules.norm.Normalization;

/**
 * One pre-norm block: {@code x + mixer(norm_1(x))}, then {@code x + mlp(norm_2(x))}; no norm_2 and no MLP when
 * {@code ffn_hidden_size} is 0. Parameters are named as the dsl layout names them ({@code norm_1.weight},
 * {@code mixer.query.weight}, {@code mlp.layer_1.weight}, ...).
 *
 * <pre>{@code
 * // given TransformerBlockConfig resolvedBob, LayerContext context
 * Block bob = Block.of(resolvedBob, LayerFactories.installed().factory("transformer"), context);
 * }</pre>
 *
 * <p>A shared block is one instance used at several layers; its gradients from all uses add up.
 */
public final class Block extends SequenceLayer {
  private final Normalization norm1;
  private final SequenceLayer mixer;
  private final Normalization norm2;
  private final Mlp mlp;
  private final double dropout;
  private Adapters ownAdapters = Adapters.NONE;

  private Block(BlockConfig config, SequenceLayer mixer, LayerContext context) {
    long hidden = config.hiddenSize();
    this.norm1 = register_module("norm_1", Normalization.of(config.normalization(), hidden, context));
    this.mixer = register_module("mixer", mixer);
    boolean hasMlp = config.ffnHiddenSize() > 0;
    this.norm2 = hasMlp ? register_module("norm_2", Normalization.of(config.normalization(), hidden, context))
        : null;
    this.mlp = hasMlp ? register_module("mlp", Mlp.of(config)) : null;
    this.dropout = config.dropout();
  }

  /** A block of a resolved config in a model built with {@code context}, its mixer made by the kind's factory. */
  public static Block of(BlockConfig resolved, LayerFactory factory, LayerContext context) {
    return new Block(resolved, factory.mixer(resolved, context), context);
  }

  /** Adapters every use of this block runs with, registered under {@code lora}. */
  <A extends Module & Adapters> void attach(A adapters) {
    this.ownAdapters = register_module("lora", adapters);
  }

  /**
   * Applies the block; {@code useAdapters} are this use's own adapters (per-use LoRA), used when the block has
   * none of its own.
   */
  @Override
  public Tensor forward(Tensor input, Adapters useAdapters) {
    Adapters adapters = ownAdapters != Adapters.NONE ? ownAdapters : useAdapters;
    Tensor x = input.add(dropped(mixer.forward(norm1.forward(input), adapters)));
    return mlp == null ? x : x.add(dropped(mlp.forward(norm2.forward(x), adapters)));
  }

  @Override
  public DecodeState startDecoding(long batch) {
    return mixer.startDecoding(batch);
  }

  /** {@link #forward} for the positions after those {@code state} has seen, without dropout. */
  @Override
  public Tensor decode(Tensor input, Adapters useAdapters, DecodeState state) {
    Adapters adapters = ownAdapters != Adapters.NONE ? ownAdapters : useAdapters;
    Tensor x = input.add(mixer.decode(norm1.forward(input), adapters, state));
    return mlp == null ? x : x.add(mlp.forward(norm2.forward(x), adapters));
  }

  @Override
  public boolean decodesIncrementally() {
    return mixer.decodesIncrementally();
  }

  /** The block's mixer, as its kind's factory made it. */
  public SequenceLayer mixer() {
    return mixer;
  }

  /** The mixer's linear layers, then the MLP's. */
  @Override
  public List<Linear> linears() {
    List<Linear> all = new ArrayList<>(mixer.linears());
    if (mlp != null) {
      all.addAll(mlp.linears());
    }
    return all;
  }

  private Tensor dropped(Tensor t) {
    return dropout > 0 ? torch.dropout(t, dropout, is_training()) : t;
  }
}
