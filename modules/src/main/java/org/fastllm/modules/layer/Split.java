package org.fastllm.modules.layer;

import java.util.Arrays;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Consecutive pieces of a tensor along one dimension, as views, taken by one split.
 *
 * <pre>{@code
 * // given Tensor keyValue, long width
 * Tensor[] kv = Split.parts(keyValue, 2, width, width);   // keys, values
 * }</pre>
 *
 * <p>Why not a {@code narrow} per piece: the backward of each narrow allocates a zero tensor of the whole input and
 * copies its piece in, and autograd then adds those up; the backward of one split concatenates the pieces' gradients,
 * writing the input's gradient once. On a projection feeding several pieces that is about five times less memory
 * traffic in the backward.
 */
public final class Split {
  private Split() {}

  /**
   * The pieces of {@code t} of the given sizes along {@code dim}, from the start; where the sizes do not cover the
   * whole dimension the rest is split off too and dropped.
   */
  public static Tensor[] parts(Tensor t, long dim, long... sizes) {
    long covered = Arrays.stream(sizes).sum();
    long total = t.size(dim);
    if (covered > total) {
      throw new IllegalArgumentException("pieces of " + Arrays.toString(sizes) + " do not fit in " + total);
    }
    long[] all = covered == total ? sizes : Arrays.copyOf(sizes, sizes.length + 1);
    if (covered < total) {
      all[sizes.length] = total - covered;
    }
    // the sizes must stay in native memory for the call: an array reference to a Java array would dangle
    try (LongPointer nativeSizes = new LongPointer(all)) {
      TensorVector pieces = torch.split(t, new LongArrayRef(nativeSizes, all.length), dim);
      Tensor[] kept = new Tensor[sizes.length];
      for (int i = 0; i < kept.length; i++) {
        kept[i] = new Tensor(pieces.get(i));   // own handles: get() points into the vector, freed with it
      }
      return kept;
    }
  }
}
