package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import java.util.EnumSet;
import java.util.Set;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.rules.ValidSsm;

/**
 * The per-variant rules of a resolved ssm block: keys of other variants are errors, and the sizes divide as the
 * variant's mixer needs (heads of {@code state_size} for Mamba 1 and 2, v-heads in qk-head groups for discrete
 * Mamba 2, heads of {@code head_size} in {@code n_groups} groups for standard Mamba 2).
 */
public final class SsmValidator implements ConstraintValidator<ValidSsm, SsmBlockConfig> {
  private static final Set<SsmVariant> DT_RANK = EnumSet.of(SsmVariant.MAMBA1, SsmVariant.MAMBA2);

  @Override
  public boolean isValid(SsmBlockConfig b, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    SsmVariant variant = b.variant();
    if (variant == null) {
      return true; // reported by @NotNull
    }
    onlyFor(v, variant, "d_xb", b.dXb(), EnumSet.of(SsmVariant.MAMBA2));
    onlyFor(v, variant, "repeat_kv_before_conv", b.repeatKvBeforeConv(), EnumSet.of(SsmVariant.MAMBA2));
    onlyFor(v, variant, "n_qk_heads", b.nQkHeads(), EnumSet.of(SsmVariant.DISCRETE_MAMBA2));
    onlyFor(v, variant, "n_v_heads", b.nVHeads(), EnumSet.of(SsmVariant.DISCRETE_MAMBA2));
    onlyFor(v, variant, "chunk_size", b.chunkSize(), EnumSet.of(SsmVariant.DISCRETE_MAMBA2, SsmVariant.MAMBA2_STANDARD));
    onlyFor(v, variant, "head_size", b.headSize(), EnumSet.of(SsmVariant.MAMBA2_STANDARD));
    onlyFor(v, variant, "n_groups", b.nGroups(), EnumSet.of(SsmVariant.MAMBA2_STANDARD));
    onlyFor(v, variant, "conv_bias", b.convBias(), EnumSet.of(SsmVariant.MAMBA1, SsmVariant.MAMBA2_STANDARD));
    onlyFor(v, variant, "dt_rank", b.dtRank(), DT_RANK);
    if (b.dtRank() != null && !b.dtRank().isAuto() && b.dtRank().value() < 1) {
      v.add("dt_rank", "must be 'auto' or at least 1, got " + b.dtRank().value());
    }
    if (b.dInner() == null) {
      v.add("d_inner", "expansion_factor x hidden_size does not fit a 32-bit integer; set d_inner");
    } else if (b.expansionFactor() != null && b.hiddenSize() != null
        && (long) b.expansionFactor() * b.hiddenSize() != b.dInner()) {
      v.add("d_inner", "is " + b.dInner() + " but expansion_factor " + b.expansionFactor() + " x hidden_size "
          + b.hiddenSize() + " = " + (long) b.expansionFactor() * b.hiddenSize() + "; give only one of them");
    }
    if (positive(b.dInner()) && positive(b.stateSize())) {
      divisibility(b, v);
    }
    return v.valid();
  }

  private static void divisibility(SsmBlockConfig b, Violations v) {
    int inner = b.dInner();
    int state = b.stateSize();
    switch (b.variant()) {
      case MAMBA1 -> divides(v, "d_inner", inner, "state_size", state);
      case MAMBA2 -> {
        divides(v, "d_inner", inner, "state_size", state);
        if (positive(b.dXb()) && divides(v, "d_xb", b.dXb(), "state_size", state) && inner % state == 0) {
          int heads = inner / state;
          int groups = b.dXb() / state;
          if (heads % groups != 0) {
            v.add("d_xb", "d_inner / state_size (" + heads + " heads) must be a multiple of d_xb / state_size ("
                + groups + " groups), got d_xb " + b.dXb());
          }
        }
      }
      case MAMBA2_STANDARD -> standardHeads(b, v);
      case DISCRETE_MAMBA2 -> {
        if (positive(b.nVHeads())) {
          divides(v, "d_inner", inner, "n_v_heads", b.nVHeads());
          if (positive(b.nQkHeads())) {
            divides(v, "n_v_heads", b.nVHeads(), "n_qk_heads", b.nQkHeads());
          }
        }
      }
    }
  }

  /** Heads of head_size channels, and whole groups of them sharing B and C. */
  private static void standardHeads(SsmBlockConfig b, Violations v) {
    if (!positive(b.headSize()) || !divides(v, "d_inner", b.dInner(), "head_size", b.headSize())
        || !positive(b.nGroups())) {
      return;
    }
    int heads = b.dInner() / b.headSize();
    if (heads % b.nGroups() != 0) {
      v.add("n_groups", "must divide the d_inner / head_size = " + heads + " heads, got " + b.nGroups());
    }
  }

  private static boolean divides(Violations v, String key, int value, String byKey, int by) {
    if (value % by != 0) {
      v.add(key, "must be a multiple of " + byKey + " (" + by + "), got " + value);
      return false;
    }
    return true;
  }

  private static void onlyFor(Violations v, SsmVariant variant, String key, Object value, Set<SsmVariant> allowed) {
    if (value != null && !allowed.contains(variant)) {
      String names = String.join(" and ", allowed.stream().map(SsmVariant::yamlName).toList());
      v.add(key, "applies only to variant " + names + " (this block is " + variant.yamlName() + ")");
    }
  }

  private static boolean positive(Integer value) {
    return value != null && value > 0;
  }
}
