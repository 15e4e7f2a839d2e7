package org.fastllm.cli;

import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;

/** A few words on what a resolved block is, for {@code describe}: {@code gqa 8 heads/2 groups, window 4096}. */
final class BlockSummary {
  private BlockSummary() {}

  static String of(BlockConfig block) {
    String mixer;
    if (block instanceof TransformerBlockConfig t) {
      mixer = t.attentionType().yamlName() + " " + t.numHeads() + "h/" + t.headGroups() + "g x" + t.headSize()
          + (t.slidingWindow() ? ", window " + t.windowSize() : "")
          + (t.rotary().enabled() ? "" : ", no rotary");
    } else if (block instanceof SsmBlockConfig s) {
      mixer = s.variant().yamlName() + " d_inner " + s.dInner() + ", state " + s.stateSize();
    } else {
      mixer = block.kind();
    }
    String mlp = block.ffnHiddenSize() == 0 ? ", no mlp"
        : ", mlp " + block.ffnHiddenSize() + (block.gated() ? " gated " : " ") + block.activation().yamlName();
    String lora = block.lora() == null ? "" : ", lora r" + block.lora().rank()
        + (block.lora().perUse() ? " per use" : "");
    return mixer + mlp + lora;
  }
}
