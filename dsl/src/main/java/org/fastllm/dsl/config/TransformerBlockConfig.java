package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.Min;
import java.util.List;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidAttention;

/**
 * An attention block: multi-head, multi-query or grouped-query attention, then the MLP.
 *
 * <pre>{@code
 * bob: {kind: transformer, attention_type: gqa, num_heads: 16, head_groups: 4, sliding_window: true}
 * }</pre>
 *
 * <p>Shapes: query {@code [num_heads*head_size, H]}, key_value {@code [2*head_groups*head_size, H]}, dense
 * {@code [H, num_heads*head_size]}. {@code attention_type} defaults to mqa when neither it nor {@code head_groups}
 * is given; gqa without {@code head_groups} means {@code num_heads / 4} when that is a whole number above 1.
 * {@code sliding_window: true} without {@code window_size} means a window of 4096. {@code qkv_biases} puts
 * biases on query and key_value alone, whatever {@code add_linear_biases} says for dense and the MLP.
 */
@Doc(rules = {
    "num_heads is a multiple of head_groups",
    "mha needs head_groups = num_heads, mqa needs head_groups = 1, gqa needs 1 < head_groups < num_heads",
    "gqa without head_groups needs num_heads / 4 to be a whole number above 1",
    "hidden_size is a multiple of num_heads unless head_size is given",
    "window_size is at least 1 when sliding_window is true; without sliding_window it has no effect (warning)"})
@Block(kind = "transformer", description = "attention (MHA, MQA or GQA; causal, sliding window, rotary) and an MLP")
@ValidAttention
public record TransformerBlockConfig(
    CommonBlockKeys common,
    @Doc(value = "how query heads share key/value heads: one each (mha), one for all (mqa), in groups (gqa)", defaultValue = "mqa, or read from head_groups when that is given")
    AttentionType attentionType,
    @Doc("query heads")
    @Min(value = 1, message = "must be at least 1") Integer numHeads,
    @Doc(value = "key/value heads", defaultValue = "mha: num_heads, mqa: 1, gqa: num_heads / 4")
    @Min(value = 1, message = "must be at least 1") Integer headGroups,
    @Doc(value = "width of one head", defaultValue = "hidden_size / num_heads")
    @Min(value = 1, message = "must be at least 1") Integer headSize,
    @Doc("each position attends only to the last window_size positions")
    Boolean slidingWindow,
    @Doc(value = "width of the sliding window", defaultValue = "4096 when sliding_window is true")
    Integer windowSize,
    @Doc("use the fused attention kernel where the device has one")
    Boolean useFlashAttention,
    @Doc("rotary position embedding of queries and keys")
    @Valid RotaryConfig rotary,
    @Doc("no position attends to a later one")
    Boolean causal,
    @Doc(value = "biases on the query and key_value projections only (Qwen2's q/k/v biases); dense and the MLP follow add_linear_biases", defaultValue = "add_linear_biases")
    Boolean qkvBiases)
    implements BlockConfig {

  public static final int DEFAULT_NUM_HEADS = 8;
  public static final int DEFAULT_WINDOW_SIZE = 4096;
  /** Linear layers carry biases; LoRA adapts the query and key/value projections. */
  private static final CommonBlockKeys.KindDefaults KIND_DEFAULTS =
      new CommonBlockKeys.KindDefaults(true, List.of("query", "key_value"));

  /** A block with every key absent, to be resolved by {@link #withDefaults}. */
  public static TransformerBlockConfig empty() {
    return new TransformerBlockConfig(CommonBlockKeys.NONE, null, null, null, null, null, null, null, null, null, null);
  }

  @Override
  public TransformerBlockConfig withDefaults(ModelDefaults model) {
    CommonBlockKeys keys = common.withDefaults(model, KIND_DEFAULTS);
    int hidden = keys.hiddenSize();
    int heads = numHeads != null ? numHeads : DEFAULT_NUM_HEADS;
    AttentionType type = attentionType != null ? attentionType : inferType(heads, headGroups);
    Integer groups = headGroups != null ? headGroups : defaultGroups(type, heads);
    Integer size = headSize != null ? headSize : (heads > 0 && hidden % heads == 0 ? hidden / heads : null);
    boolean sliding = slidingWindow != null && slidingWindow;
    Integer window = windowSize != null ? windowSize : sliding ? DEFAULT_WINDOW_SIZE : null;
    return new TransformerBlockConfig(
        keys,
        type,
        heads,
        groups,
        size,
        sliding,
        window,
        useFlashAttention == null || useFlashAttention,
        rotary == null ? RotaryConfig.DEFAULT : rotary.withDefaults(),
        causal == null || causal,
        qkvBiases != null ? qkvBiases : keys.addLinearBiases());
  }

  /** Whether the query and key_value projections carry biases; resolved blocks only. */
  public boolean queryKeyValueBiases() {
    return qkvBiases != null ? qkvBiases : addLinearBiases();
  }

  private static AttentionType inferType(int heads, Integer groups) {
    if (groups == null || groups == 1) {
      return AttentionType.MQA;
    }
    return groups == heads ? AttentionType.MHA : AttentionType.GQA;
  }

  /** mha: one group per head; mqa: one group; gqa: a quarter of the heads when that is a whole number above 1. */
  private static Integer defaultGroups(AttentionType type, int heads) {
    return switch (type) {
      case MHA -> heads;
      case MQA -> 1;
      case GQA -> heads % 4 == 0 && heads / 4 > 1 ? heads / 4 : null;
    };
  }
}
