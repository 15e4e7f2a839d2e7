package org.fastllm.dsl.config;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.util.List;
import org.fastllm.dsl.Doc;

/**
 * Low-rank adapters on some linear layers of a block: {@code {rank: 8, alpha: 16, targets: [query, key_value]}}.
 *
 * <p>Each target linear {@code W [out, in]} gains {@code A [rank, in]} and {@code B [out, rank]}, B starting at
 * zero so the adapted block equals the base block at step 0; the update is scaled by {@code alpha / rank}.
 * On a shared block, {@code per_use: true} gives every use its own adapters over the one shared base.
 *
 * @param rank the adapters' inner size; required
 * @param alpha scale numerator (default: the rank, a scale of 1)
 * @param dropout dropout on the adapter input (default 0)
 * @param targets names of the block's linear layers to adapt (default: the kind's usual targets)
 * @param freezeBase when true, the block's own weights are not trained (default false)
 * @param perUse one adapter per use of a shared block (default false)
 */
public record LoraConfig(
    @Doc(value = "inner size of the adapters", defaultValue = "required")
    @NotNull(message = "is required") @Min(value = 1, message = "must be at least 1") Integer rank,
    @Doc(value = "scale numerator: updates are scaled by alpha / rank", defaultValue = "rank")
    @Positive(message = "must be greater than 0") Double alpha,
    @Doc("dropout on the adapter input")
    @DecimalMin(value = "0.0", message = "must be at least 0") @DecimalMax(value = "1.0", inclusive = false, message = "must be below 1") Double dropout,
    @Doc(value = "names of the block's linear layers to adapt", defaultValue = "the kind's usual targets: transformer query, key_value; ssm and gated_conv in_proj, out_proj")
    List<String> targets,
    @Doc("the block's own weights are not trained")
    Boolean freezeBase,
    @Doc("on a shared block, one adapter per use over the one shared base")
    Boolean perUse) {

  public LoraConfig {
    targets = targets == null ? null : List.copyOf(targets);
  }

  /** This config with every absent value filled in; {@code defaultTargets} are the kind's usual targets. */
  public LoraConfig withDefaults(List<String> defaultTargets) {
    return new LoraConfig(
        rank,
        alpha != null ? alpha : (rank == null || rank < 1 ? null : rank.doubleValue()),
        dropout != null ? dropout : 0.0,
        targets != null ? targets : defaultTargets,
        freezeBase != null ? freezeBase : false,
        perUse != null ? perUse : false);
  }
}
