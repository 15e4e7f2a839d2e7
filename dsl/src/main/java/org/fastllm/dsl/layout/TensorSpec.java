package org.fastllm.dsl.layout;

import java.util.Arrays;
import java.util.List;

/**
 * One parameter tensor a block owns: its name inside the block, its shape, and how training treats it.
 *
 * <pre>{@code TensorSpec.weight("mixer.query", 1024, 1024)  // mixer.query.weight [1024, 1024], a LoRA target}</pre>
 *
 * @param name dotted name inside the block, e.g. {@code mixer.query.weight}
 * @param shape sizes, outermost first
 * @param weightDecay whether AdamW decays it (false for norms, biases and SSM state parameters)
 * @param linear the linear layer this is the weight of, named as LoRA targets name it; null otherwise
 */
public record TensorSpec(String name, List<Long> shape, boolean weightDecay, String linear) {

  public TensorSpec {
    shape = List.copyOf(shape);
  }

  /** The weight {@code [out, in]} of linear layer {@code prefix}, whose LoRA target name is its last segment. */
  public static TensorSpec weight(String prefix, long out, long in) {
    return new TensorSpec(prefix + ".weight", List.of(out, in), true, prefix.substring(prefix.lastIndexOf('.') + 1));
  }

  public static TensorSpec bias(String prefix, long size) {
    return new TensorSpec(prefix + ".bias", List.of(size), false, null);
  }

  /** A tensor that is neither a linear weight nor a bias (conv kernels, SSM state parameters, norms). */
  public static TensorSpec other(String name, boolean weightDecay, long... shape) {
    return new TensorSpec(name, Arrays.stream(shape).boxed().toList(), weightDecay, null);
  }

  /** The number of values, or an ArithmeticException when it does not fit a long. */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public boolean isLinearWeight() {
    return linear != null;
  }
}
