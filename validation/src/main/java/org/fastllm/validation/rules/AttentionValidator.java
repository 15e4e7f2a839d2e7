package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import org.fastllm.dsl.config.AttentionType;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.config.rules.ValidAttention;

/**
 * The attention rules of a resolved transformer block: head groups divide the heads and agree with
 * {@code attention_type}; the head size is known; a sliding window has a size of at least 1.
 */
public final class AttentionValidator implements ConstraintValidator<ValidAttention, TransformerBlockConfig> {

  @Override
  public boolean isValid(TransformerBlockConfig block, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    Integer heads = block.numHeads();
    Integer groups = block.headGroups();
    if (heads != null && heads >= 1) {
      groups(block.attentionType(), heads, groups, v);
      if (block.headSize() == null && block.hiddenSize() != null) {
        v.add("head_size", "hidden_size " + block.hiddenSize() + " is not divisible by num_heads " + heads
            + "; set head_size explicitly");
      }
    }
    if (Boolean.TRUE.equals(block.slidingWindow()) && block.windowSize() != null && block.windowSize() < 1) {
      v.add("window_size", "must be at least 1 when sliding_window is true, got " + block.windowSize());
    }
    return v.valid();
  }

  private static void groups(AttentionType type, int heads, Integer groups, Violations v) {
    if (groups == null) {
      v.add("head_groups", "is required for attention_type gqa when num_heads (" + heads
          + ") is not a multiple of 4 above 4 (the default is num_heads / 4)");
      return;
    }
    if (groups < 1) {
      return; // reported by the field constraint
    }
    if (heads % groups != 0) {
      v.add("head_groups", "must divide num_heads (" + heads + "), got " + groups);
      return;
    }
    switch (type) {
      case MHA -> {
        if (groups != heads) {
          v.add("attention_type", "mha needs head_groups equal to num_heads (" + heads + "), got head_groups "
              + groups + (groups == 1 ? "; use mqa" : "; use gqa"));
        }
      }
      case MQA -> {
        if (groups != 1) {
          v.add("attention_type", "mqa needs head_groups 1, got head_groups " + groups
              + (groups == heads ? "; use mha" : "; use gqa"));
        }
      }
      case GQA -> {
        if (groups == 1 || groups == heads) {
          v.add("attention_type", "gqa needs 1 < head_groups < num_heads (" + heads + "), got head_groups "
              + groups + (groups == 1 ? "; use mqa" : "; use mha"));
        }
      }
    }
  }
}
