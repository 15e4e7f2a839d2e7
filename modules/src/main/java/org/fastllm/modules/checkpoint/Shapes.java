package org.fastllm.modules.checkpoint;

import java.util.Arrays;
import org.bytedeco.pytorch.Tensor;

/** Tensor shapes as Java arrays and as text for messages, e.g. {@code [256, 128]}. */
final class Shapes {
  private Shapes() {}

  static long[] of(Tensor t) {
    long[] shape = new long[(int) t.dim()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = t.size(i);
    }
    return shape;
  }

  static String text(Tensor t) {
    return Arrays.toString(of(t));
  }
}
