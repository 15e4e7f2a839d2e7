package org.fastllm.modules.attention;

import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.layer.Split;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * Multi-head, multi-query or grouped-query self-attention with Fast-LLM's parameters: {@code query}
 * {@code [heads*head_size, H]}, fused {@code key_value} {@code [2*groups*head_size, H]} (keys first), {@code dense}
 * {@code [H, heads*head_size]}. Query head {@code h} reads key/value group {@code h / (heads/groups)}.
 * {@code query.bias} and {@code key_value.bias} ({@code [k_bias; v_bias]}) exist when {@code qkv_biases},
 * {@code dense.bias} when {@code add_linear_biases}.
 *
 * <pre>{@code
 * // given TransformerBlockConfig resolvedTransformerBlock, LayerContext context, Tensor x
 * Attention attention = Attention.of(resolvedTransformerBlock, context);
 * Tensor y = attention.forward(x, Adapters.NONE);  // x, y: [b, t, H]
 * }</pre>
 *
 * <p>With {@code use_flash_attention} it calls torch's fused {@code scaled_dot_product_attention}; otherwise it
 * computes the masked softmax explicitly. Both give the same values.
 *
 * <p>A causal layer decodes from a key/value cache: keys and values once per group, rotated at their own
 * positions, written in place, and with a sliding window a ring of the last {@code window_size} of them, so memory
 * stays bounded.
 * Caches of sequences of different lengths join into one batch ({@link RowKeyValueCache}).
 */
public final class Attention extends SequenceLayer {
  private final Linear query;
  private final Linear keyValue;
  private final Linear dense;
  private final int heads;
  private final int groups;
  private final int headSize;
  private final Rotary rotary;
  private final AttentionMask mask;
  private final boolean fused;
  private final JoinedProjection joined;

  private Attention(TransformerBlockConfig c, LayerContext context) {
    this.heads = c.numHeads();
    this.groups = c.headGroups();
    this.headSize = c.headSize();
    long hidden = c.hiddenSize();
    boolean biases = c.addLinearBiases();
    boolean qkv = c.queryKeyValueBiases();
    // Fast-LLM initialises attention weights with std hidden^-1/2.
    this.query = linear("query", Linear.kaiming("query", (long) heads * headSize, hidden, qkv));
    this.keyValue = linear("key_value", Linear.kaiming("key_value", 2L * groups * headSize, hidden, qkv));
    this.dense = linear("dense", Linear.kaiming("dense", hidden, (long) heads * headSize, biases));
    this.rotary = c.rotary().enabled() ? new Rotary(c.rotary().theta(), context) : null;
    this.mask = new AttentionMask(c.causal(), c.slidingWindow() ? c.windowSize() : 0);
    this.fused = c.useFlashAttention();
    this.joined = new JoinedProjection(query, keyValue);
    if (heads % groups != 0) {
      throw new IllegalArgumentException("num_heads " + heads + " is not a multiple of head_groups " + groups);
    }
    if (rotary != null && headSize % 2 != 0) {
      throw new IllegalArgumentException("rotary needs an even head_size, got " + headSize);
    }
  }

  /** The attention mixer of a resolved transformer block in a model built with {@code context}. */
  public static Attention of(TransformerBlockConfig resolved, LayerContext context) {
    return new Attention(resolved, context);
  }

  @Override
  public Tensor forward(Tensor input, Adapters adapters) {
    long time = input.size(1);
    Tensor[] qkv = project(input, adapters);
    Tensor q = qkv[0];
    Tensor k = qkv[1];
    if (rotary != null) {
      q = rotary.apply(q);
      k = rotary.apply(k);
    }
    Tensor context = fused ? fused(q, k, qkv[2], time) : explicit(q, k, qkv[2], time);
    return output(context, adapters);
  }

  /** A key/value cache for a causal layer; a non-causal one recomputes, its outputs depending on later positions. */
  @Override
  public DecodeState startDecoding(long batch) {
    return mask.causal() ? new KeyValueCache(mask.window()) : super.startDecoding(batch);
  }

  @Override
  public Tensor decode(Tensor input, Adapters adapters, DecodeState state) {
    if (state instanceof RowKeyValueCache rows) {
      return decodeRows(input, adapters, rows);
    }
    if (!(state instanceof KeyValueCache cache)) {
      return super.decode(input, adapters, state);
    }
    long seen = cache.seen();
    boolean atDevicePosition = cache.fixed() && input.size(1) == 1;
    Tensor[] qkv = projectTurned(input, adapters, atDevicePosition
        ? x -> rotary.apply(x, cache.position(), cache.limit(), cache.rotaryTables) : x -> rotary.apply(x, seen));
    Tensor q = qkv[0];
    Tensor k = qkv[1];
    long time = input.size(1);
    if (cache.seen() == 0 && time > 1) {
      // a prompt sees only itself: the forward's attention (the fused kernel, where it runs), then cached
      cache.extend(k, qkv[2]);
      return output(fused ? fused(q, k, qkv[2], time) : explicit(q, k, qkv[2], time), adapters);
    }
    return output(cached(q, cache.extend(k, qkv[2])), adapters);
  }

  /** A step of rows of different lengths: each row rotated at its own positions, masked to its own entries. */
  private Tensor decodeRows(Tensor input, Adapters adapters, RowKeyValueCache cache) {
    Tensor[] qkv = projectTurned(input, adapters, x -> rotary.apply(x, cache.seen()));
    Tensor q = qkv[0];
    Tensor k = qkv[1];
    RowKeyValueCache.Visible visible = cache.extend(k, qkv[2]);
    return output(cachedRows(q, visible.keys(), visible.values(), visible.allowed()), adapters);
  }

  @Override
  public boolean decodesIncrementally() {
    return mask.causal();
  }

  /**
   * Queries and keys rotated by {@code turn} (where the layer has rotary embeddings) and values, as
   * {@link #project} lays them out. Where no adapter changes the projections, one product gives all three and one
   * rotation turns queries and keys together: a decoding step's cost is the number of its operations.
   */
  private Tensor[] projectTurned(Tensor input, Adapters adapters, UnaryOperator<Tensor> turn) {
    if (adapters != Adapters.NONE) {
      Tensor[] qkv = project(input, adapters);
      if (rotary != null) {
        qkv[0] = turn.apply(qkv[0]);
        qkv[1] = turn.apply(qkv[1]);
      }
      return qkv;
    }
    long batch = input.size(0);
    long time = input.size(1);
    Tensor all = joined.apply(input).view(batch, time, heads + 2L * groups, headSize).transpose(1, 2);
    Tensor queriesKeys = all.narrow(1, 0, heads + groups);
    if (rotary != null) {
      queriesKeys = turn.apply(queriesKeys);
    }
    return new Tensor[] {queriesKeys.narrow(1, 0, heads), queriesKeys.narrow(1, heads, groups),
        all.narrow(1, heads + groups, groups)};
  }

  /** Queries {@code [b, heads, t, head_size]}, keys and values {@code [b, groups, t, head_size]}, not rotated. */
  private Tensor[] project(Tensor input, Adapters adapters) {
    long batch = input.size(0);
    long time = input.size(1);
    Tensor q = query.forward(input, adapters).view(batch, time, heads, headSize).transpose(1, 2);
    Tensor kv = keyValue.forward(input, adapters);
    long kvWidth = (long) groups * headSize;
    Tensor[] keysValues = Split.parts(kv, 2, kvWidth, kvWidth);
    Tensor k = keysValues[0].reshape(batch, time, groups, headSize).transpose(1, 2);
    Tensor v = keysValues[1].reshape(batch, time, groups, headSize).transpose(1, 2);
    return new Tensor[] {q, k, v};
  }

  private Tensor output(Tensor context, Adapters adapters) {
    long batch = context.size(0);
    long time = context.size(2);
    Tensor merged = context.transpose(1, 2).reshape(batch, time, (long) heads * headSize);
    return dense.forward(merged, adapters);
  }

  private Tensor fused(Tensor q, Tensor k, Tensor v, long time) {
    // The CPU kernel's backward returned wrong weight gradients for transposed (strided) inputs in this build.
    q = q.contiguous();
    k = k.contiguous();
    v = v.contiguous();
    boolean gqa = groups != heads;
    DoubleOptional scale = new DoubleOptional(1.0 / Math.sqrt(headSize));
    if (mask.seesEverything() || mask.plainCausal(time)) {
      return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, mask.causal(), scale, gqa);
    }
    TensorOptional allowed = new TensorOptional(mask.allowed(time, q.device()));
    return torch.scaled_dot_product_attention(q, k, v, allowed, 0.0, false, scale, gqa);
  }

  private Tensor explicit(Tensor q, Tensor k, Tensor v, long time) {
    int perGroup = heads / groups;
    if (perGroup > 1) {
      k = k.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
      v = v.repeat_interleave(perGroup, new org.bytedeco.pytorch.LongOptional(1), new org.bytedeco.pytorch.LongOptional());
    }
    Tensor scores = q.matmul(k.transpose(2, 3)).mul(new Scalar(1.0 / Math.sqrt(headSize)));
    if (!mask.seesEverything()) {
      scores = scores.masked_fill(mask.allowed(time, q.device()).logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
    }
    return torch.softmax(scores, -1).matmul(v);
  }

  /**
   * The attention of {@code t} new queries to what the cache lets them see; masked only when the step has more than
   * one query. The query heads of a group are stacked as rows of one product with the group's keys: a product that
   * broadcast the keys to every head would copy the whole cache at every step.
   */
  private Tensor cached(Tensor q, KeyValueCache.Visible visible) {
    long batch = q.size(0);
    long time = q.size(2);
    long perGroup = heads / groups;
    Tensor keys = visible.keys();
    long seen = keys.size(2);
    Tensor rows = q.reshape(batch, groups, perGroup * time, headSize);
    double scale = 1.0 / Math.sqrt(headSize);
    // a fixed cache's step sees every slot, those not yet written masked out
    Tensor slots = visible.slots() == null ? null : visible.slots().view(1, 1, 1, -1);
    if (fused && slots != null) {
      return DecodeAttention.attendFixed(rows, keys, visible.values(), slots, scale)
          .reshape(batch, heads, time, headSize);
    }
    if (fused && visible.unmasked()) {
      // one query per head that sees every key: plain attention of the group's rows, one fused kernel
      Tensor context = DecodeAttention.attend(rows, keys, visible.values(), scale);
      return context.reshape(batch, heads, time, headSize);
    }
    // scaling the queries costs t x head_size products, scaling the scores t x n
    rows = rows.mul(new Scalar(scale));
    Tensor scores = rows.matmul(keys.transpose(2, 3));                       // [b, groups, perGroup * t, n]
    if (slots != null) {
      scores = scores.masked_fill(slots.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
    } else if (!visible.unmasked()) {
      Tensor allowed = mask.allowed(time, seen, q.device());
      scores = scores.view(batch, groups, perGroup, time, seen)
          .masked_fill(allowed.logical_not(), new Scalar(Double.NEGATIVE_INFINITY))
          .view(batch, groups, perGroup * time, seen);
    }
    return torch.softmax(scores, -1).matmul(visible.values()).reshape(batch, heads, time, headSize);
  }

  /**
   * The attention of {@code t} new queries to {@code keys} and {@code values} {@code [b, groups, n, head_size]}
   * whose last {@code t} positions are theirs, where {@code allowed} (broadcast to the scores
   * {@code [b, groups, heads / groups, t, n]}) is true: each group's entries broadcast to its query heads, not
   * repeated.
   */
  private Tensor cachedRows(Tensor q, Tensor keys, Tensor values, Tensor allowed) {
    long batch = q.size(0);
    long time = q.size(2);
    Tensor grouped = q.reshape(batch, groups, heads / groups, time, headSize);
    Tensor scores = grouped.matmul(keys.unsqueeze(2).transpose(3, 4)).mul(new Scalar(1.0 / Math.sqrt(headSize)));
    scores = scores.masked_fill(allowed.logical_not(), new Scalar(Double.NEGATIVE_INFINITY));
    return torch.softmax(scores, -1).matmul(values.unsqueeze(2)).reshape(batch, heads, time, headSize);
  }
}
