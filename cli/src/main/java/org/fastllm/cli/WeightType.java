package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * The type a restored model's weights, and so its decoding caches, are held in for {@code generate} and
 * {@code eval} ({@code --dtype}): float32, as every checkpoint stores them (training keeps float32 weights whatever
 * {@code training.precision}), or bfloat16, half the memory and, on a GPU, faster decoding.
 *
 * <pre>{@code
 * // given PrintWriter err, org.bytedeco.pytorch.Device on
 * Optional<WeightType> type = WeightType.parse("bfloat16", on, err);   // empty: the reason is printed
 * }</pre>
 *
 * <p><b>Logits are read and tokens chosen in float32 either way.</b> bfloat16 on the CPU runs, with a warning: this
 * kind of CPU computes it about 26 times slower than float32.
 */
enum WeightType {
  FLOAT32(torch.ScalarType.Float), BFLOAT16(torch.ScalarType.BFloat16);

  /** What {@code --help} says of the option. */
  static final String HELP = "float32 or bfloat16: the type of the weights and decoding caches; logits and sampling"
      + " stay float32 (default: float32, the type checkpoints hold; bfloat16 on the CPU is allowed but slow)";

  private final torch.ScalarType scalarType;

  WeightType(torch.ScalarType scalarType) {
    this.scalarType = scalarType;
  }

  torch.ScalarType scalarType() {
    return scalarType;
  }

  /** The type {@code name} names ({@code float32}, {@code bfloat16}, or their short names), or null. */
  static WeightType named(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "float32", "fp32" -> FLOAT32;
      case "bfloat16", "bf16" -> BFLOAT16;
      default -> null;
    };
  }

  /** The type {@code name} names (null: float32); empty, the reason printed, for another name. */
  static Optional<WeightType> parse(String name, Device on, PrintWriter err) {
    WeightType type = name == null ? FLOAT32 : named(name);
    if (type == null) {
      err.println("error: --dtype " + name + ": must be float32 or bfloat16");
      return Optional.empty();
    }
    if (type == BFLOAT16 && on.is_cpu()) {
      err.println("warning: --dtype bfloat16 on the CPU: about 26 times slower than float32 on this kind of CPU;"
          + " bfloat16 is meant for a GPU (--device cuda)");
    }
    return Optional.of(type);
  }
}
