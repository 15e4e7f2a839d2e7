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
 * experiment flag {@code -Dfastllm.cudnnDecodeAttention=true} leaves cuDNN on, to measure the difference.
 */
final class DecodeAttention {
  private DecodeAttention() {}

  /** {@code softmax(q k^T scale) v} for {@code q [b, g, t, d]}, {@code keys}, {@code values} {@code [b, g, n, d]}. */
  static Tensor attend(Tensor q, Tensor keys, Tensor values, double scale) {
    return attend(q, keys, values, null, scale);
  }

  /** {@link #attend} where {@code allowed} (boolean, broadcast to the scores {@code [b, g, t, n]}) is true; null: everywhere. */
  static Tensor attend(Tensor q, Tensor keys, Tensor values, Tensor allowed, double scale) {
    Context context = torch.globalContext();
    boolean switchOff = !ExperimentFlags.current().cudnnDecodeAttention() && q.is_cuda() && context.userEnabledCuDNNSDP();
    if (switchOff) {
      context.setSDPUseCuDNN(false);
    }
    try {
      return torch.scaled_dot_product_attention(q, keys, values,
          allowed == null ? new TensorOptional() : new TensorOptional(allowed), 0.0, false,
          new DoubleOptional(scale), false);
    } finally {
      if (switchOff) {
        context.setSDPUseCuDNN(true);
      }
    }
  }
}
