package org.fastllm.modules.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32C;

/**
 * Tokenizes a UTF-8 text file piece by piece on every core and writes the ids, in order, as little-endian u16 or u32.
 *
 * <p><b>The text is cut only where the cut cannot change the ids</b>: just after a {@code \n} whose neighbours on both
 * sides are printable ASCII characters other than space (so no whitespace run, word or {@code \r\n} is split), and
 * only when the tokenizer gives the same ids for the text around that cut encoded apart as together (checked at every
 * cut). A piece tries at most {@link #PROBES} line breaks from its end before it is read on, so a tokenizer that
 * refuses only some line breaks (a GPT-4-style pattern that keeps {@code .\n} together) is still cut at the others.
 * When the first {@link #FIRST_PROBES} line breaks of the file are all refused (a SentencePiece {@code Metaspace}
 * marks the start of each input, which a line may not have), the cuts are tried just before a space between two
 * printable characters instead, which such a tokenizer marks anyway; when those are refused too, the file is read in
 * one piece, with a note. A stretch without a safe cut is read on until one comes.
 * Heap use is bounded by {@code threads + 2} pieces of at most {@link #PIECE} bytes (half that or more each), whatever
 * the file's size.
 */
final class StreamingTokenizer {
  static final int PIECE = 1 << 20;
  private static final int PROBE = 512;
  /** Places tried in a piece once the file has been cut somewhere. */
  static final int PROBES = 16;
  /** Places of one kind tried before the first cut; all refused, the tokenizer changes its ids at every one. */
  static final int FIRST_PROBES = 64;
  private final Tokenizer tokenizer;
  private final int threads;
  /** Cut just after a line break, or, once those are refused, just before a space. */
  private byte mark = '\n';
  private boolean cutBefore;
  private boolean uncut;

  StreamingTokenizer(Tokenizer tokenizer, int threads) {
    this.tokenizer = tokenizer;
    this.threads = threads;
  }

  /** Ids written, and the CRC32C of the bytes written. */
  record Written(long count, long crc) {}

  /**
   * Reads {@code text} ({@code total} bytes, for progress) from {@code in} and writes its ids of {@code width} bytes
   * to {@code out}; invalid UTF-8 is a {@link DataException} naming {@code file} and the byte offset.
   */
  Written tokenize(InputStream in, long total, Path file, int width, OutputStream out, TokenizationProgress progress)
      throws IOException {
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "tokenize");
      t.setDaemon(true);
      return t;
    });
    ArrayDeque<Future<int[]>> pending = new ArrayDeque<>();
    ArrayDeque<Long> ends = new ArrayDeque<>();
    CRC32C crc = new CRC32C();
    long count = 0;
    try {
      byte[] buffer = new byte[PIECE];
      int filled = 0;
      long start = 0;
      boolean eof = false;
      while (!eof || filled > 0) {
        while (!eof && filled < buffer.length) {
          int n = in.read(buffer, filled, buffer.length - filled);
          if (n < 0) {
            eof = true;
          } else {
            filled += n;
          }
        }
        boolean wasUncut = uncut;
        int cut = eof ? filled : cut(buffer, filled);
        if (cut < 0) {
          if (uncut && !wasUncut) {
            progress.note("tokens: the tokenizer gives other ids when the text is cut at a line break or a space, so "
                + "the rest of " + file + " is tokenized in one piece");
          }
          buffer = Arrays.copyOf(buffer, buffer.length * 2);
          continue;
        }
        String piece = decode(buffer, cut, start, file);
        pending.add(pool.submit(() -> tokenizer.encode(piece)));
        start += cut;
        ends.add(start);
        System.arraycopy(buffer, cut, buffer, 0, filled - cut);
        filled -= cut;
        if (buffer.length > PIECE && filled < PIECE) {
          buffer = Arrays.copyOf(buffer, PIECE);
        }
        while (pending.size() > threads || (eof && filled == 0 && !pending.isEmpty())) {
          count += write(take(pending.remove()), width, out, crc);
          progress.tokenized(ends.remove(), total);
        }
      }
    } finally {
      pool.shutdownNow();
    }
    return new Written(count, crc.getValue());
  }

  /** The last safe cut within the second half of the buffer's {@code filled} bytes, or -1. */
  private int cut(byte[] b, int filled) {
    int probes = cutBefore ? PROBES : FIRST_PROBES;
    for (int i = filled - 2; i > filled / 2 && probes > 0 && !uncut; i--) {
      if (b[i] == mark && printable(b[i - 1]) && printable(b[i + 1])) {
        int at = mark == '\n' ? i + 1 : i;
        if (sameIdsApart(b, at, filled)) {
          cutBefore = true;
          return at;
        }
        probes--;
      }
    }
    if (!cutBefore && probes == 0) {
      uncut = mark == ' ';
      mark = ' ';
    }
    return -1;
  }

  private static boolean printable(byte b) {
    return b > ' ' && b < 0x7F;
  }

  /** Whether the text around {@code at} (up to {@link #PROBE} bytes each side) gives the same ids apart as together. */
  private boolean sameIdsApart(byte[] b, int at, int filled) {
    int from = Math.max(0, at - PROBE);
    while (from < at && (b[from] & 0xC0) == 0x80) {
      from++;
    }
    int to = Math.min(filled, at + PROBE);
    while (to > at && to < filled && (b[to] & 0xC0) == 0x80) {
      to--;
    }
    String left = new String(b, from, at - from, StandardCharsets.UTF_8);
    String right = new String(b, at, to - at, StandardCharsets.UTF_8);
    int[] apart = concat(tokenizer.encode(left), tokenizer.encode(right));
    return Arrays.equals(apart, tokenizer.encode(left + right));
  }

  private static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** The first {@code length} bytes as text; {@code offset} is their place in the file, for the error. */
  static String decode(byte[] bytes, int length, long offset, Path file) {
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
    CharBuffer out = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isUnderflow()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      int at = in.position();
      throw new DataException(String.format(Locale.ROOT, "data.path: %s: not valid UTF-8 text: the byte at offset "
          + "%,d (0x%02x) starts a malformed sequence — format: text needs UTF-8; pre-tokenized ids use format "
          + "tokens_u16 or tokens_u32", file, offset + at, bytes[at] & 0xFF));
    }
    return out.flip().toString();
  }

  private static int[] take(Future<int[]> ids) throws IOException {
    try {
      return ids.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while tokenizing", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IOException(e.getCause());
    }
  }

  private static int write(int[] ids, int width, OutputStream out, CRC32C crc) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(ids.length * width).order(ByteOrder.LITTLE_ENDIAN);
    for (int id : ids) {
      if (width == 2) {
        bytes.putShort((short) id);
      } else {
        bytes.putInt(id);
      }
    }
    crc.update(bytes.array());
    out.write(bytes.array());
    return ids.length;
  }
}
