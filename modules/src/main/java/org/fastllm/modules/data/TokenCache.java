package org.fastllm.modules.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The ids of a tokenized text file, kept on disk so that the next run and every resume map them instead of
 * tokenizing again: {@code .fastllm-cache/<file name>.<tokenizer hash>.tokens} beside the text, or, when that folder
 * cannot be written, the same name under {@code $XDG_CACHE_HOME/fastllm/tokens} ({@code ~/.cache/...}).
 *
 * <pre class="text">
 * data/corpus.txt
 * data/.fastllm-cache/corpus.txt.a6ab54ba0a6c.tokens    64-byte header, then u16 (or u32) little-endian ids
 * </pre>
 *
 * <p><b>A cache file is used only when its header's key is the SHA-256 of the text's bytes, the tokenizer's bytes and
 * {@link #VERSION}, and its ids match the header's count and CRC32C</b>; any other file is rebuilt, with a note.
 * Files are written to a temporary name and renamed, so a killed run never leaves a half-written cache behind.
 */
final class TokenCache {
  static final int VERSION = 1;
  static final int HEADER = 64;
  private static final byte[] MAGIC = "FLLMTOKS".getBytes(StandardCharsets.US_ASCII);
  private final Path fallback;

  TokenCache(Path fallback) {
    this.fallback = fallback;
  }

  /**
   * {@code $XDG_CACHE_HOME/fastllm/tokens}, or {@code $HOME/.cache/fastllm/tokens}, from {@code env} (the process's
   * environment, a map so that it can be tested); the working directory's {@code .fastllm-cache} when neither is set.
   */
  static Path userFolder(Map<String, String> env) {
    String xdg = env.get("XDG_CACHE_HOME");
    String home = env.get("HOME");
    if (xdg != null && !xdg.isBlank()) {
      return Path.of(xdg, "fastllm", "tokens");
    }
    return home != null && !home.isBlank() ? Path.of(home, ".cache", "fastllm", "tokens") : Path.of(".fastllm-cache");
  }

  /**
   * The ids of {@code text} under {@code tokenizer}: mapped from the cache when it holds them, else tokenized on every
   * core and cached. {@code tokenizerFile} is null for the built-in {@code bytes} tokenizer.
   */
  Tokens tokens(Path text, Tokenizer tokenizer, String tokenizerName, Path tokenizerFile,
      TokenizationProgress progress) throws IOException {
    byte[] tokenizerHash = sha256(tokenizerFile == null ? null : tokenizerFile, tokenizerName);
    byte[] key = key(sha256(text, null), tokenizerHash);
    String name = text.getFileName() + "." + HexFormat.of().formatHex(tokenizerHash, 0, 6) + ".tokens";
    Path beside = text.toAbsolutePath().getParent().resolve(".fastllm-cache").resolve(name);
    Path elsewhere = fallback.resolve(HexFormat.of().formatHex(sha256(null, text.toAbsolutePath().toString()), 0, 4)
        + "-" + name);
    for (Path cached : new Path[] {beside, elsewhere}) {
      if (Files.exists(cached)) {
        Optional<String> problem = problem(cached, key);
        if (problem.isEmpty()) {
          progress.note("tokens: from cache " + cached);
          return TokenFile.map(cached, widthOf(cached), HEADER);
        }
        progress.note("tokens: cache " + cached + " " + problem.get() + "; tokenizing again");
      }
    }
    int width = tokenizer.vocabSize() <= 1 << 16 ? 2 : 4;
    Path written = write(text, tokenizer, key, width, writable(beside, elsewhere, progress), progress);
    return TokenFile.map(written, width, HEADER);
  }

  /** {@code beside} when its folder can be written, else {@code elsewhere}, with a note. */
  private static Path writable(Path beside, Path elsewhere, TokenizationProgress progress) throws IOException {
    try {
      Files.createDirectories(beside.getParent());
      Files.deleteIfExists(Files.createTempFile(beside.getParent(), "probe", ".tmp"));
      return beside;
    } catch (IOException e) {
      String reason = e instanceof java.nio.file.AccessDeniedException ? "permission denied" : e.toString();
      progress.note("tokens: cannot write the cache beside the data (" + beside.getParent() + ": " + reason
          + "); caching in " + elsewhere.getParent());
      return elsewhere;
    }
  }

  private static Path write(Path text, Tokenizer tokenizer, byte[] key, int width, Path cached,
      TokenizationProgress progress) throws IOException {
    Files.createDirectories(cached.getParent());
    Path temp = Files.createTempFile(cached.getParent(), cached.getFileName() + ".", ".tmp");
    try {
      StreamingTokenizer.Written w;
      try (InputStream in = Files.newInputStream(text);
          OutputStream out = new BufferedOutputStream(Files.newOutputStream(temp), 1 << 20)) {
        out.write(new byte[HEADER]);
        w = new StreamingTokenizer(tokenizer, Runtime.getRuntime().availableProcessors())
            .tokenize(in, Files.size(text), text, width, out, progress);
      }
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.write(header(key, width, w.count(), w.crc()), 0);
        channel.force(true);
      }
      Files.move(temp, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return cached;
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private static ByteBuffer header(byte[] key, int width, long count, long crc) {
    ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
    h.put(MAGIC).putInt(VERSION).putInt(width).putLong(count).put(key).putLong(crc);
    return h.flip();
  }

  /** Why {@code cached} cannot be used for {@code key}, or empty when it can. */
  static Optional<String> problem(Path cached, byte[] key) throws IOException {
    try (FileChannel channel = FileChannel.open(cached, StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
      while (h.hasRemaining() && channel.read(h) >= 0) {
        // a header shorter than HEADER bytes is reported below
      }
      h.flip();
      byte[] magic = new byte[MAGIC.length];
      if (h.remaining() < HEADER || !Arrays.equals(read(h, magic), MAGIC) || h.getInt() != VERSION) {
        return Optional.of("is not a token cache of this version");
      }
      int width = h.getInt();
      long count = h.getLong();
      byte[] stored = new byte[32];
      h.get(stored);
      long crc = h.getLong();
      if (!MessageDigest.isEqual(stored, key)) {
        return Optional.of("is stale (the text or the tokenizer changed)");
      }
      if ((width != 2 && width != 4) || channel.size() != HEADER + count * width) {
        return Optional.of(String.format(Locale.ROOT, "is incomplete (%,d bytes, the header says %,d ids)",
            channel.size(), count));
      }
      CRC32C check = new CRC32C();
      ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20);
      channel.position(HEADER);
      while (channel.read(chunk.clear()) > 0) {
        check.update(chunk.flip());
      }
      return check.getValue() == crc ? Optional.empty() : Optional.of("is damaged (its checksum does not match)");
    }
  }

  private static byte[] read(ByteBuffer from, byte[] into) {
    from.get(into);
    return into;
  }

  private static int widthOf(Path cached) throws IOException {
    try (FileChannel channel = FileChannel.open(cached, StandardOpenOption.READ)) {
      ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
      channel.read(h, MAGIC.length + 4);
      return h.flip().getInt();
    }
  }

  private static byte[] key(byte[] textHash, byte[] tokenizerHash) {
    MessageDigest sha = sha();
    sha.update(("fastllm tokens " + VERSION + "\n").getBytes(StandardCharsets.US_ASCII));
    sha.update(textHash);
    sha.update(tokenizerHash);
    return sha.digest();
  }

  /** SHA-256 of {@code file}'s bytes, or of {@code text} when there is no file. */
  private static byte[] sha256(Path file, String text) throws IOException {
    MessageDigest sha = sha();
    if (file == null) {
      return sha.digest(text.getBytes(StandardCharsets.UTF_8));
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[1 << 20];
      for (int n; (n = in.read(buffer)) > 0; ) {
        sha.update(buffer, 0, n);
      }
    }
    return sha.digest();
  }

  private static MessageDigest sha() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
