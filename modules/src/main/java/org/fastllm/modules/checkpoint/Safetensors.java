package org.fastllm.modules.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The safetensors format, written and read here: an 8-byte little-endian header length, a JSON header naming each
 * tensor's {@code dtype}, {@code shape} and {@code data_offsets} plus {@code __metadata__} (string to string), then
 * the raw little-endian data.
 *
 * <pre>{@code
 * // given Path path, Tensor weight
 * Safetensors.write(path, Map.of("w", weight), Map.of("format", "fastllm-checkpoint"));
 * Safetensors.Contents back = Safetensors.read(path);   // CRC32 of every tensor checked
 * }</pre>
 *
 * <p><b>Every tensor's CRC32 is stored in {@code __metadata__} under {@code crc32.<name>}, and the header's own
 * CRC32 under {@code header_crc32}; both are verified on read, as is the header's structure (dtypes, shapes against
 * byte ranges, ranges tiling the data exactly).</b> A damaged file is an {@link IOException} whose message starts
 * with the file and names the tensor or the header field at fault. Files are forced to disk before {@code write}
 * returns.
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_HEADER = 100_000_000;

  /** What a file holds: tensors (on the CPU) in file order, and the metadata without the checksums. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

  private Safetensors() {}

  /**
   * Writes {@code tensors} in map order with {@code metadata} and the checksums. Each tensor is copied from its own
   * memory (made contiguous and brought to the CPU first, one tensor at a time), never through a Java array.
   */
  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    if (metadata.containsKey(SafetensorsHeader.HEADER_CRC)) {
      throw new IllegalArgumentException("metadata key '" + SafetensorsHeader.HEADER_CRC + "' is reserved");
    }
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    metadata.forEach(meta::put);
    meta.put(SafetensorsHeader.HEADER_CRC, SafetensorsHeader.PLACEHOLDER);
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      long bytes = t.nbytes();
      // Eight zeros now, the digits once the data is written: the header's length does not change.
      meta.put(SafetensorsHeader.CRC + e.getKey(), SafetensorsHeader.PLACEHOLDER);
      ObjectNode entry = header.putObject(e.getKey());
      // intern(): JavaCPP returns native enums as a constant whose value field was overwritten.
      entry.put("dtype", dtypeName(t.scalar_type().intern()));
      var shape = entry.putArray("shape");
      for (int d = 0; d < t.dim(); d++) {
        shape.add(t.size(d));
      }
      entry.putArray("data_offsets").add(offset).add(offset + bytes);
      offset += bytes;
    }
    int headLength = headBytes(header).length;
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      out.position(headLength);
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        meta.put(SafetensorsHeader.CRC + e.getKey(), String.format("%08x", writeData(out, e.getValue())));
      }
      byte[] headBytes = headBytes(header);
      if (headBytes.length != headLength) {
        throw new IllegalStateException("header grew from " + headLength + " to " + headBytes.length + " bytes");
      }
      byte[] digits = crc(headBytes).getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(digits, 0, headBytes, SafetensorsHeader.crcPosition(headBytes), digits.length);
      out.position(0);
      writeFully(out, ByteBuffer.wrap(headBytes));
      out.force(true);
    }
  }

  /** The length prefix and the JSON header padded with spaces to a multiple of 8 bytes. */
  private static byte[] headBytes(ObjectNode header) throws IOException {
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    return head.array();
  }

  /** Reads and verifies {@code file}; a file with per-tensor checksums must carry its header checksum too. */
  public static Contents read(Path file) throws IOException {
    return read(file, true);
  }

  /**
   * Reads a safetensors file written by any tool: no header checksum is required, and per-tensor CRC32s are
   * checked only where the file carries them. The header's structure is verified as by {@link #read}; a dtype this
   * reader does not know is an {@link IOException} naming the file, the tensor and the dtype.
   */
  public static Contents readExternal(Path file) throws IOException {
    return read(file, false);
  }

  /** {@code requireHeaderChecksum} false: files of checkpoint format 1, written before headers had checksums. */
  static Contents read(Path file, boolean requireHeaderChecksum) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      SafetensorsHeader header;
      try {
        header = SafetensorsHeader.parse(headerBytes(in), in.size(), requireHeaderChecksum);
      } catch (IOException e) {
        throw new IOException(file + ": " + e.getMessage(), e);
      }
      long base = header.dataStart();
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (SafetensorsHeader.Entry entry : header.tensors()) {
        Tensor tensor = torch.empty(entry.shape(), new TensorOptions(entry.dtype()), new MemoryFormatOptional());
        long crc = TensorBytes.read(in, base + entry.start(), tensor);
        if (entry.crc() != null && !entry.crc().equals(String.format("%08x", crc))) {
          throw new IOException(file + ": tensor '" + entry.name() + "' fails its CRC32 check (the file is damaged)");
        }
        tensors.put(entry.name(), tensor);
      }
      return new Contents(tensors, header.metadata());
    }
  }

  /** The length prefix and the header it announces, after checking that the length fits the file. */
  private static byte[] headerBytes(FileChannel in) throws IOException {
    long size = in.size();
    if (size < 8) {
      throw new IOException("the file is " + size + " bytes, too short for a safetensors header");
    }
    ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    readFully(in, lengthBytes, 0);
    long headerLength = lengthBytes.flip().getLong();
    if (headerLength < 2 || headerLength > Math.min(size - 8, MAX_HEADER)) {
      throw new IOException("the length prefix announces a " + headerLength + "-byte header, which does not fit "
          + "a " + size + "-byte file (damaged, or not a safetensors file)");
    }
    ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(8 + headerLength));
    readFully(in, all, 0);
    return all.array();
  }

  /**
   * Writes the tensor's bytes at the channel's position and returns their CRC32. Each intermediate stays referenced
   * until the copy is done: a no-op {@code cpu()} or {@code contiguous()} may hand back a handle to its receiver's
   * native object, which the collector would free with the receiver.
   */
  private static long writeData(FileChannel out, Tensor tensor) throws IOException {
    Tensor detached = tensor.detach();
    Tensor cpu = detached.cpu();
    Tensor dense = cpu.contiguous();
    long crc = TensorBytes.write(out, dense);
    java.lang.ref.Reference.reachabilityFence(detached);
    java.lang.ref.Reference.reachabilityFence(cpu);
    java.lang.ref.Reference.reachabilityFence(dense);
    return crc;
  }

  static String crc(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes);
    return String.format("%08x", crc.getValue());
  }

  private static String dtypeName(ScalarType type) {
    return switch (type) {
      case Float -> "F32";
      case BFloat16 -> "BF16";
      case Half -> "F16";
      case Double -> "F64";
      case Long -> "I64";
      case Int -> "I32";
      case Byte -> "U8";
      case Bool -> "BOOL";
      default -> throw new IllegalArgumentException("no safetensors dtype for " + type);
    };
  }

  /** The dtype named in a header, or null when this reader does not know it. */
  static ScalarType dtypeOf(String name) {
    return switch (name) {
      case "F32" -> ScalarType.Float;
      case "BF16" -> ScalarType.BFloat16;
      case "F16" -> ScalarType.Half;
      case "F64" -> ScalarType.Double;
      case "I64" -> ScalarType.Long;
      case "I32" -> ScalarType.Int;
      case "U8" -> ScalarType.Byte;
      case "BOOL" -> ScalarType.Bool;
      default -> null;
    };
  }

  static long elementSize(ScalarType type) {
    return switch (type) {
      case Double, Long -> 8;
      case Float, Int -> 4;
      case BFloat16, Half -> 2;
      default -> 1;
    };
  }

  private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      out.write(buffer);
    }
  }

  private static void readFully(FileChannel in, ByteBuffer buffer, long position) throws IOException {
    long at = position;
    while (buffer.hasRemaining()) {
      int n = in.read(buffer, at);
      if (n < 0) {
        throw new IOException("unexpected end of file at byte " + at);
      }
      at += n;
    }
  }
}
