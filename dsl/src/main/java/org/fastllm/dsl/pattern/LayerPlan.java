package org.fastllm.dsl.pattern;

import org.fastllm.dsl.config.BlockConfig;

/**
 * One layer of the expanded stack.
 *
 * @param index position in the stack, from 0
 * @param blockName the name in {@code model.blocks}
 * @param config the block's resolved config
 * @param use which use of the block this is, from 0 (the third {@code bob} has use 2)
 */
public record LayerPlan(int index, String blockName, BlockConfig config, int use) {

  public boolean shared() {
    return config.isShared();
  }
}
