package org.fastllm.validation.rules;

import jakarta.inject.Inject;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import java.util.List;
import java.util.Objects;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.rules.ValidCommonBlockKeys;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * The rules of the keys every block has: sizes that overflow, and LoRA targets that must be linear layers the
 * block's kind has (read from the kind's parameter layout, so plugin kinds are checked the same way).
 */
public final class CommonBlockKeysValidator implements ConstraintValidator<ValidCommonBlockKeys, BlockConfig> {
  private final BlockKindRegistry kinds;

  /** For discovery by {@link java.util.ServiceLoader}; the instances that validate are made with a registry. */
  public CommonBlockKeysValidator() {
    this(BlockKindRegistry.installed());
  }

  @Inject
  public CommonBlockKeysValidator(BlockKindRegistry kinds) {
    this.kinds = kinds;
  }

  @Override
  public boolean isValid(BlockConfig block, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    if (block.ffnHiddenSize() == null && block.hiddenSize() != null) {
      v.add("ffn_hidden_size", "4 x hidden_size does not fit a 32-bit integer; set ffn_hidden_size");
    }
    LoraConfig lora = block.lora();
    if (lora != null) {
      if (lora.perUse() && !block.isShared()) {
        v.add("lora.per_use", "needs shared_weights: true (an unshared block already has one adapter per use)");
      }
      checkTargets(block, lora, v);
    }
    return v.valid();
  }

  private void checkTargets(BlockConfig block, LoraConfig lora, Violations v) {
    List<String> linears = linearsOf(block);
    if (linears == null) {
      return; // the block has other problems that keep its layout from being computed
    }
    if (lora.targets().isEmpty()) {
      v.add("lora.targets", "must name at least one linear layer (this block has: " + String.join(", ", linears) + ")");
    }
    for (int i = 0; i < lora.targets().size(); i++) {
      String target = lora.targets().get(i);
      if (!linears.contains(target)) {
        v.add("lora.targets[" + i + "]", "'" + target + "' is not a linear layer of this " + block.kind()
            + " block" + org.fastllm.dsl.problem.Suggestions.didYouMean(target, linears)
            + " (it has: " + String.join(", ", linears) + ")");
      }
    }
  }

  private List<String> linearsOf(BlockConfig block) {
    try {
      return kinds.kind(block.kind()).tensors(block).stream()
          .map(TensorSpec::linear).filter(Objects::nonNull).distinct().toList();
    } catch (RuntimeException invalidSizes) {
      return null;
    }
  }
}
