package org.fastllm.modules.attention;

import org.bytedeco.pytorch.Context;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.experiment.ExperimentFlags;

/**
 * Fused attention of a decode step's few queries to every cached key, without cuDNN's attention kernel.
 *
 * <p>On GPUs where torch prefers cuDNN for bf16 and fp16 attention, cuDNN builds an execution plan for each new
 * key length and keeps it. A decode step's keys are one longer than the step before, so every step pays for a new
 * plan, several milliseconds of host time per layer. With cuDNN's backend off for the call, torch picks flash or
 * memory-efficient attention, which take any length as it comes. Training, whose shapes repeat, keeps cuDNN. The
 * experiment flag {@code -Dfastllm.cudnnDecodeAttention=true} leaves cuDNN on, to measure the difference. A fixed
 * cache's steps ({@link #attendFixed}) see the same number of keys every time and keep cuDNN.
 */
final class DecodeAttention {
  private DecodeAttention() {}

  /** {@code softmax(q k^T scale) v} for {@code q [b, g, t, d]}, {@code keys}, {@code values} {@code [b, g, n, d]}. */
  static Tensor attend(Tensor q, Tensor keys, Tensor values, double scale) {
    Context context = torch.globalContext();
    boolean switchOff = !ExperimentFlags.current().cudnnDecodeAttention() && q.is_cuda() && context.userEnabledCuDNNSDP();
    if (switchOff) {
      context.setSDPUseCuDNN(false);
    }
    try {
      return fused(q, keys, values, null, scale);
    } finally {
      if (switchOff) {
        context.setSDPUseCuDNN(true);
      }
    }
  }

  /**
   * {@link #attend} to every slot of a fixed cache, where {@code allowed} (boolean, broadcast to the scores
   * {@code [b, g, t, n]}) is true. The key length is the same at every step, so cuDNN's kernel, where torch picks it,
   * is planned once and stays: in bf16 on the H200 it decodes about twice as fast as the others.
   */
  static Tensor attendFixed(Tensor q, Tensor keys, Tensor values, Tensor allowed, double scale) {
    return fused(q, keys, values, allowed, scale);
  }

  private static Tensor fused(Tensor q, Tensor keys, Tensor values, Tensor allowed, double scale) {
    return torch.scaled_dot_product_attention(q, keys, values,
        allowed == null ? new TensorOptional() : new TensorOptional(allowed), 0.0, false, new DoubleOptional(scale),
        false);
  }
}
