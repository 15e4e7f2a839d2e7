package org.fastllm.dsl.count;

import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.pattern.LayerPlan;

/**
 * Which parameters a layer of the stack stores: the one rule both {@link ModelTensors} (names) and
 * {@link ParameterAccounting} (counts) follow, so that the two cannot drift apart.
 *
 * <ul>
 *   <li>The block's own tensors at every layer of an unshared block, and only at the first use of a shared one.
 *   <li>Adapters inside the block ({@code layers.<i>.lora.*}) wherever the block's tensors are stored, unless the
 *       block is shared with {@code per_use: true}: then every use stores its own set under {@code adapters.<i>.*}.
 * </ul>
 *
 * @param base whether the layer stores the block's tensors
 * @param blockAdapters whether it stores adapters inside the block
 * @param useAdapters whether it stores a per-use adapter set
 */
record LayerStorage(boolean base, boolean blockAdapters, boolean useAdapters) {

  static LayerStorage of(LayerPlan layer) {
    boolean base = !layer.shared() || layer.use() == 0;
    LoraConfig lora = layer.config().lora();
    boolean perUse = lora != null && layer.shared() && lora.perUse();
    return new LayerStorage(base, lora != null && !perUse && base, perUse);
  }

  boolean adapters() {
    return blockAdapters || useAdapters;
  }

  /** The name prefix of this layer's adapter set: {@code layers.<i>.lora.} or {@code adapters.<i>.}. */
  static String adapterPrefix(int layer, boolean perUse) {
    return perUse ? "adapters." + layer + "." : "layers." + layer + ".lora.";
  }
}
