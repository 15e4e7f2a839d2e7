package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Tensor;

/**
 * Copies between a file and a dense CPU tensor's own memory, in chunks seen through direct {@link ByteBuffer}
 * views, computing the CRC32 on the way: no Java array holds the tensor, so host memory does not double and a
 * tensor above 2 GiB (a buffer's int limit) is copied like any other.
 *
 * <pre>{@code
 * // given FileChannel out, Tensor dense
 * long crc = TensorBytes.write(out, dense);   // at the channel's position, which moves on
 * }</pre>
 */
final class TensorBytes {
  /** The largest view made at once; settable so that a test crosses many chunk borders on a small tensor. */
  static int chunkBytes = 1 << 30;

  private TensorBytes() {}

  /** Writes {@code dense} (contiguous, on the CPU) at the channel's position; returns the CRC32 of its bytes. */
  static long write(FileChannel out, Tensor dense) throws IOException {
    CRC32 crc = new CRC32();
    long size = dense.nbytes();
    BytePointer base = new BytePointer(dense.data_ptr());
    for (long at = 0; at < size; at += chunkBytes) {
      ByteBuffer view = view(base, at, Math.min(chunkBytes, size - at));
      crc.update(view.duplicate());
      while (view.hasRemaining()) {
        out.write(view);
      }
    }
    return crc.getValue();
  }

  /** Fills {@code dense} with the bytes of the file from {@code position}; returns the CRC32 of those bytes. */
  static long read(FileChannel in, long position, Tensor dense) throws IOException {
    CRC32 crc = new CRC32();
    long size = dense.nbytes();
    BytePointer base = new BytePointer(dense.data_ptr());
    for (long at = 0; at < size; at += chunkBytes) {
      ByteBuffer view = view(base, at, Math.min(chunkBytes, size - at));
      long from = position + at;
      while (view.hasRemaining()) {
        int n = in.read(view, from + view.position());
        if (n < 0) {
          throw new IOException("unexpected end of file at byte " + (from + view.position()));
        }
      }
      crc.update(view.flip());
    }
    return crc.getValue();
  }

  /**
   * A buffer over {@code length} bytes from {@code offset}: a pointer moved to that address first, so that neither
   * the offset nor the tensor's size meets the buffer's int limit (a position would count towards it).
   */
  private static ByteBuffer view(BytePointer base, long offset, long length) {
    return base.getPointer(offset).capacity(length).asBuffer();
  }
}
