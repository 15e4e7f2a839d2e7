package org.fastllm.modules.data;

/**
 * A read-only sequence of token ids: a tokenized text in memory, or a memory-mapped token file.
 *
 * <pre>{@code Tokens all = Tokens.of(new int[] {72, 105}); all.slice(0, 1).at(0)  // 72}</pre>
 */
public interface Tokens {
  long size();

  /** The id at {@code index}, {@code 0 <= index < size()}. */
  int at(long index);

  /** The largest id, read once over the whole sequence. */
  default int maxId() {
    int max = -1;
    for (long i = 0; i < size(); i++) {
      max = Math.max(max, at(i));
    }
    return max;
  }

  /** A view of {@code length} ids from {@code start}. */
  default Tokens slice(long start, long length) {
    Tokens outer = this;
    if (start < 0 || length < 0 || start + length > size()) {
      throw new IndexOutOfBoundsException("slice " + start + "+" + length + " of " + size() + " tokens");
    }
    return new Tokens() {
      @Override
      public long size() {
        return length;
      }

      @Override
      public int at(long index) {
        return outer.at(start + index);
      }
    };
  }

  static Tokens of(int[] ids) {
    int[] copy = ids.clone();
    return new Tokens() {
      @Override
      public long size() {
        return copy.length;
      }

      @Override
      public int at(long index) {
        return copy[(int) index];
      }
    };
  }
}
