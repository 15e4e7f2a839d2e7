package org.fastllm.legacy;

import java.util.Arrays;
import java.util.Optional;
import org.fastllm.dsl.config.SsmVariant;

/**
 * A letter of Fast-LLM's {@code hybrid_block_layout} and the block it becomes: {@code t} a transformer,
 * {@code m} Mamba 1, {@code m2} Mamba 2, {@code m2d} discrete Mamba 2.
 *
 * <p>The block name is also the name the migrated file gives that block under {@code model.blocks}.
 */
enum LayoutLetter {
  TRANSFORMER("t", "transformer", null),
  MAMBA1("m", "mamba1", SsmVariant.MAMBA1),
  MAMBA2("m2", "mamba2", SsmVariant.MAMBA2),
  DISCRETE_MAMBA2("m2d", "discrete_mamba2", SsmVariant.DISCRETE_MAMBA2);

  private final String letter;
  private final String blockName;
  private final SsmVariant variant;

  LayoutLetter(String letter, String blockName, SsmVariant variant) {
    this.letter = letter;
    this.blockName = blockName;
    this.variant = variant;
  }

  static Optional<LayoutLetter> of(String letter) {
    return Arrays.stream(values()).filter(l -> l.letter.equals(letter)).findFirst();
  }

  String letter() {
    return letter;
  }

  String blockName() {
    return blockName;
  }

  /** The ssm variant, or null for the transformer. */
  SsmVariant variant() {
    return variant;
  }

  boolean isSsm() {
    return variant != null;
  }
}
