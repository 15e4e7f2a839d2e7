package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.util.List;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidSsm;

/**
 * A state-space block: a Mamba 1, Mamba 2, discrete Mamba 2 or standard Mamba 2 mixer, then the MLP.
 *
 * <pre>{@code
 * claire: {kind: ssm, variant: mamba1, dt_rank: auto}
 * dave:   {kind: ssm, variant: discrete_mamba2, state_size: 16}
 * erin:   {kind: ssm, variant: mamba2_standard, head_size: 64, n_groups: 1}
 * }</pre>
 *
 * <p>{@code d_inner} defaults to {@code expansion_factor x hidden_size}; {@code dt_rank: auto} is
 * {@code ceil(hidden_size / 16)}. Keys of one variant ({@code d_xb} for mamba2, {@code n_qk_heads} for
 * discrete_mamba2, ...) are errors on another.
 */
@Doc(rules = {
    "keys of another variant are errors: d_xb and repeat_kv_before_conv are mamba2 only; n_qk_heads and n_v_heads discrete_mamba2 only; chunk_size discrete_mamba2 and mamba2_standard only; head_size and n_groups mamba2_standard only; conv_bias mamba1 and mamba2_standard only; dt_rank mamba1 and mamba2 only",
    "d_inner equals expansion_factor x hidden_size when both are given",
    "mamba1 and mamba2: d_inner is a multiple of state_size; mamba2: d_xb too, and d_inner / state_size is a multiple of d_xb / state_size",
    "discrete_mamba2: d_inner is a multiple of n_v_heads, and n_v_heads of n_qk_heads",
    "mamba2_standard: d_inner is a multiple of head_size, and its d_inner / head_size heads a multiple of n_groups"})
@Block(kind = "ssm", description = "a Mamba 1, Mamba 2, discrete Mamba 2 or standard Mamba 2 mixer and an MLP")
@ValidSsm
public record SsmBlockConfig(
    CommonBlockKeys common,
    @Doc(value = "which state-space mixer", defaultValue = "required")
    @NotNull(message = "is required (mamba1, mamba2, discrete_mamba2 or mamba2_standard)") SsmVariant variant,
    @Doc("state size N of the selective scan")
    @Min(value = 1, message = "must be at least 1") Integer stateSize,
    @Doc("d_inner as a multiple of hidden_size; give it or d_inner, not both with different values")
    @Min(value = 1, message = "must be at least 1") Integer expansionFactor,
    @Doc(value = "inner width of the mixer", defaultValue = "expansion_factor x hidden_size")
    @Min(value = 1, message = "must be at least 1") Integer dInner,
    @Doc(value = "rank of the time-step projection: auto or a number (mamba1 and mamba2)", defaultValue = "auto = ceil(hidden_size / 16)")
    DtRank dtRank,
    @Doc("taps of the depthwise causal convolution")
    @Min(value = 1, message = "must be at least 1") Integer convKernelSize,
    @Doc(value = "width of the x and B projections (mamba2 only)", defaultValue = "hidden_size (mamba2 only)")
    @Min(value = 1, message = "must be at least 1") Integer dXb,
    @Doc("repeat the key/value groups before the convolution (mamba2 only)")
    Boolean repeatKvBeforeConv,
    @Doc("query/key heads (discrete_mamba2 only)")
    @Min(value = 1, message = "must be at least 1") Integer nQkHeads,
    @Doc("value heads (discrete_mamba2 only)")
    @Min(value = 1, message = "must be at least 1") Integer nVHeads,
    @Doc("sequence chunk of the chunked scan (discrete_mamba2 and mamba2_standard)")
    @Min(value = 1, message = "must be at least 1") Integer chunkSize,
    @Doc("channels per head; d_inner / head_size heads (mamba2_standard only)")
    @Min(value = 1, message = "must be at least 1") Integer headSize,
    @Doc("groups of heads sharing one B and one C (mamba2_standard only)")
    @Min(value = 1, message = "must be at least 1") Integer nGroups,
    @Doc(value = "the causal convolution carries a bias (mamba1 and mamba2_standard)",
        defaultValue = "false for mamba1, true for mamba2_standard")
    Boolean convBias)
    implements BlockConfig {

  public static final int DEFAULT_STATE_SIZE = 16;
  public static final int DEFAULT_EXPANSION = 2;
  public static final int DEFAULT_CONV_KERNEL = 4;
  public static final int DEFAULT_QK_HEADS = 32;
  public static final int DEFAULT_V_HEADS = 32;
  public static final int DEFAULT_CHUNK_SIZE = 256;
  public static final int DEFAULT_HEAD_SIZE = 64;
  public static final int DEFAULT_GROUPS = 1;

  /** Linear layers carry no biases; LoRA adapts the input and output projections. */
  private static final CommonBlockKeys.KindDefaults KIND_DEFAULTS =
      new CommonBlockKeys.KindDefaults(false, List.of("in_proj", "out_proj"));

  /** A block written without the keys head_size, n_groups and conv_bias (their defaults apply where they belong). */
  public SsmBlockConfig(CommonBlockKeys common, SsmVariant variant, Integer stateSize, Integer expansionFactor,
      Integer dInner, DtRank dtRank, Integer convKernelSize, Integer dXb, Boolean repeatKvBeforeConv, Integer nQkHeads,
      Integer nVHeads, Integer chunkSize) {
    this(common, variant, stateSize, expansionFactor, dInner, dtRank, convKernelSize, dXb, repeatKvBeforeConv,
        nQkHeads, nVHeads, chunkSize, null, null, null);
  }

  /** An ssm block of the given variant with every other key absent. */
  public static SsmBlockConfig of(SsmVariant variant) {
    return new SsmBlockConfig(CommonBlockKeys.NONE, variant, null, null, null, null, null, null, null, null, null,
        null, null, null, null);
  }

  @Override
  public SsmBlockConfig withDefaults(ModelDefaults model) {
    CommonBlockKeys keys = common.withDefaults(model, KIND_DEFAULTS);
    int hidden = keys.hiddenSize();
    int expansion = expansionFactor != null ? expansionFactor : DEFAULT_EXPANSION;
    Integer inner = dInner != null ? dInner : fitsInt((long) expansion * hidden);
    boolean mamba2 = variant == SsmVariant.MAMBA2;
    boolean discrete = variant == SsmVariant.DISCRETE_MAMBA2;
    boolean standard = variant == SsmVariant.MAMBA2_STANDARD;
    DtRank rank = discrete || standard ? dtRank : new DtRank((dtRank == null ? DtRank.AUTO : dtRank).resolve(hidden));
    return new SsmBlockConfig(
        keys,
        variant,
        stateSize != null ? stateSize : DEFAULT_STATE_SIZE,
        expansionFactor != null || dInner == null ? expansion : null,
        inner,
        rank,
        convKernelSize != null ? convKernelSize : DEFAULT_CONV_KERNEL,
        variantDefault(dXb, mamba2, hidden),
        variantDefault(repeatKvBeforeConv, mamba2, Boolean.TRUE),
        variantDefault(nQkHeads, discrete, DEFAULT_QK_HEADS),
        variantDefault(nVHeads, discrete, DEFAULT_V_HEADS),
        variantDefault(chunkSize, discrete || standard, DEFAULT_CHUNK_SIZE),
        variantDefault(headSize, standard, DEFAULT_HEAD_SIZE),
        variantDefault(nGroups, standard, DEFAULT_GROUPS),
        variantDefault(convBias, standard || variant == SsmVariant.MAMBA1, standard));
  }

  /** The heads of a resolved mamba2_standard block: {@code d_inner / head_size}. */
  public int numHeads() {
    return dInner / headSize;
  }

  /** A variant's own key: its default when the variant applies, else left as written (an error if given). */
  private static <T> T variantDefault(T value, boolean applies, T fallback) {
    return value != null || !applies ? value : fallback;
  }

  private static Integer fitsInt(long value) {
    return value <= Integer.MAX_VALUE ? (int) value : null;
  }
}
