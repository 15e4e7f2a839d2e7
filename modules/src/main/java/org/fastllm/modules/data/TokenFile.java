package org.fastllm.modules.data;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A pre-tokenized file of little-endian unsigned 16- or 32-bit ids, memory-mapped rather than read.
 *
 * <pre>{@code Tokens tokens = TokenFile.map(Path.of("train.bin"), 2);   // uint16 ids}</pre>
 *
 * <p><b>The file length must be a multiple of the id width</b>; files over 2 GiB are mapped in pieces.
 */
public final class TokenFile implements Tokens {
  private static final long PIECE = 1L << 30;
  private static final int CHUNK = 1 << 16;
  private final List<MappedByteBuffer> pieces;
  private final int width;
  private final long size;

  private TokenFile(List<MappedByteBuffer> pieces, int width, long size) {
    this.pieces = pieces;
    this.width = width;
    this.size = size;
  }

  /** Maps {@code file} as ids of {@code width} bytes (2 or 4). */
  public static TokenFile map(Path file, int width) throws IOException {
    return map(file, width, 0);
  }

  /** Maps the ids of {@code width} bytes that follow a header of {@code skip} bytes. */
  static TokenFile map(Path file, int width, long skip) throws IOException {
    if (width != 2 && width != 4) {
      throw new IllegalArgumentException("token width must be 2 or 4 bytes, got " + width);
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      long bytes = channel.size() - skip;
      if (bytes % width != 0) {
        throw new IOException(file + ": " + bytes + " bytes is not a whole number of " + (8 * width)
            + "-bit tokens");
      }
      List<MappedByteBuffer> pieces = new ArrayList<>();
      for (long at = 0; at < bytes; at += PIECE) {
        MappedByteBuffer piece = channel.map(FileChannel.MapMode.READ_ONLY, skip + at, Math.min(PIECE, bytes - at));
        piece.order(ByteOrder.LITTLE_ENDIAN);
        pieces.add(piece);
      }
      return new TokenFile(List.copyOf(pieces), width, bytes / width);
    }
  }

  /**
   * The ids at or above {@code limit}, found in one pass over the mapped file: the first one's position and value and
   * how many there are; empty when every id is below {@code limit}.
   */
  public Optional<OutOfRange> idsAtOrAbove(int limit) {
    if (width == 2 && limit > 0xFFFF) {
      return Optional.empty();
    }
    long first = -1;
    int firstId = 0;
    long count = 0;
    int[] chunk = new int[CHUNK];
    short[] shorts = width == 2 ? new short[CHUNK] : null;
    long base = 0;
    for (MappedByteBuffer piece : pieces) {
      var ids = piece.duplicate().order(ByteOrder.LITTLE_ENDIAN);
      while (ids.remaining() >= width) {
        int n = Math.min(CHUNK, ids.remaining() / width);
        if (shorts != null) {
          ids.asShortBuffer().get(shorts, 0, n);
          for (int i = 0; i < n; i++) {
            chunk[i] = Short.toUnsignedInt(shorts[i]);
          }
        } else {
          ids.asIntBuffer().get(chunk, 0, n);
        }
        ids.position(ids.position() + n * width);
        for (int i = 0; i < n; i++) {
          // An unsigned 32-bit id above Integer.MAX_VALUE reads as negative: out of range too.
          if (chunk[i] >= limit || chunk[i] < 0) {
            if (count++ == 0) {
              first = base + i;
              firstId = chunk[i];
            }
          }
        }
        base += n;
      }
    }
    return count == 0 ? Optional.empty() : Optional.of(new OutOfRange(first, Integer.toUnsignedLong(firstId), count));
  }

  /** Ids outside a vocabulary: the first one's {@code position} (in ids from the file's start) and {@code id}. */
  public record OutOfRange(long position, long id, long count) {}

  @Override
  public long size() {
    return size;
  }

  @Override
  public int at(long index) {
    long byteIndex = index * width;
    MappedByteBuffer piece = pieces.get((int) (byteIndex / PIECE));
    int offset = (int) (byteIndex % PIECE);
    return width == 2 ? Short.toUnsignedInt(piece.getShort(offset)) : piece.getInt(offset);
  }
}
