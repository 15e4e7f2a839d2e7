package org.fastllm.dsl.count;

import java.util.List;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * The parameters of one named block.
 *
 * @param uses layers that use the block
 * @param perUse parameters one instance holds (without LoRA)
 * @param unique parameters stored for the block: {@code perUse} once when shared, else {@code uses x perUse}
 * @param effective parameters the layers compute with: {@code uses x perUse}
 * @param lora adapter parameters stored for the block (once, or once per use with {@code per_use} or no sharing)
 * @param trainable stored parameters that train: LoRA, plus the base unless frozen ({@code lr_scale: 0} or
 *     {@code lora.freeze_base})
 */
public record BlockCount(String name, String kind, int uses, boolean shared, long perUse, long unique, long effective,
    long lora, long trainable, List<TensorSpec> tensors) {

  public BlockCount {
    tensors = List.copyOf(tensors);
  }
}
