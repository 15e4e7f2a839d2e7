package org.fastllm.modules.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import org.bytedeco.javacpp.BytePointer;
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
 * Safetensors.write(path, Map.of("w", weight), Map.of("format_version", "1"));
 * Safetensors.Contents back = Safetensors.read(path);   // CRC32 of every tensor checked
 * }</pre>
 *
 * <p><b>Every tensor's CRC32 is stored in {@code __metadata__} under {@code crc32.<name>} and verified on read</b>;
 * a damaged file is an {@link IOException} naming the tensor. Files are forced to disk before {@code write} returns.
 */
public final class Safetensors {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String CRC = "crc32.";

  /** What a file holds: tensors (on the CPU) in file order, and the metadata without the checksums. */
  public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {}

  private Safetensors() {}

  public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
    Map<String, byte[]> data = new LinkedHashMap<>();
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    metadata.forEach(meta::put);
    long offset = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      byte[] bytes = bytesOf(t);
      data.put(e.getKey(), bytes);
      meta.put(CRC + e.getKey(), crc(bytes));
      ObjectNode entry = header.putObject(e.getKey());
      // intern(): JavaCPP returns native enums as a constant whose value field was overwritten.
      entry.put("dtype", dtypeName(t.scalar_type().intern()));
      var shape = entry.putArray("shape");
      for (int d = 0; d < t.dim(); d++) {
        shape.add(t.size(d));
      }
      entry.putArray("data_offsets").add(offset).add(offset + bytes.length);
      offset += bytes.length;
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      writeFully(out, head);
      for (byte[] bytes : data.values()) {
        writeFully(out, ByteBuffer.wrap(bytes));
      }
      out.force(true);
    }
  }

  public static Contents read(Path file) throws IOException {
    try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = in.size();
      ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(in, lengthBytes, 0);
      long headerLength = lengthBytes.flip().getLong();
      if (headerLength < 2 || headerLength > Math.min(size - 8, 100_000_000)) {
        throw new IOException(file + ": not a safetensors file (header length " + headerLength + ")");
      }
      ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
      readFully(in, headerBytes, 8);
      JsonNode header = JSON.readTree(new String(headerBytes.array(), StandardCharsets.UTF_8).strip());
      long base = 8 + headerLength;
      Map<String, String> metadata = new LinkedHashMap<>();
      Map<String, String> checksums = new LinkedHashMap<>();
      header.path("__metadata__").fields().forEachRemaining(e -> {
        if (e.getKey().startsWith(CRC)) {
          checksums.put(e.getKey().substring(CRC.length()), e.getValue().asText());
        } else {
          metadata.put(e.getKey(), e.getValue().asText());
        }
      });
      Map<String, Tensor> tensors = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().equals("__metadata__")) {
          continue;
        }
        JsonNode entry = e.getValue();
        long start = entry.path("data_offsets").get(0).asLong();
        long end = entry.path("data_offsets").get(1).asLong();
        if (start < 0 || end < start || base + end > size) {
          throw new IOException(file + ": tensor '" + e.getKey() + "' lies outside the file (truncated?)");
        }
        ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(end - start));
        readFully(in, bytes, base + start);
        String expected = checksums.get(e.getKey());
        if (expected != null && !expected.equals(crc(bytes.array()))) {
          throw new IOException(file + ": tensor '" + e.getKey() + "' fails its CRC32 check (the file is damaged)");
        }
        long[] shape = new long[entry.path("shape").size()];
        for (int d = 0; d < shape.length; d++) {
          shape[d] = entry.path("shape").get(d).asLong();
        }
        tensors.put(e.getKey(), tensorOf(bytes.array(), shape, dtypeOf(entry.path("dtype").asText(), file)));
      }
      return new Contents(tensors, metadata);
    }
  }

  /**
   * The tensor's bytes. Each intermediate stays referenced until the copy is done: a no-op {@code cpu()} or
   * {@code contiguous()} may hand back a handle to its receiver's native object, which the collector would free
   * with the receiver.
   */
  private static byte[] bytesOf(Tensor tensor) {
    Tensor detached = tensor.detach();
    Tensor cpu = detached.cpu();
    Tensor dense = cpu.contiguous();
    byte[] bytes = new byte[Math.toIntExact(dense.nbytes())];
    if (bytes.length > 0) {
      new BytePointer(dense.data_ptr()).capacity(bytes.length).get(bytes);
    }
    java.lang.ref.Reference.reachabilityFence(detached);
    java.lang.ref.Reference.reachabilityFence(cpu);
    return bytes;
  }

  private static Tensor tensorOf(byte[] bytes, long[] shape, ScalarType type) {
    Tensor tensor = torch.empty(shape, new TensorOptions(type), new MemoryFormatOptional());
    if (bytes.length > 0) {
      new BytePointer(tensor.data_ptr()).capacity(bytes.length).put(bytes);
    }
    return tensor;
  }

  private static String crc(byte[] bytes) {
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
      default -> throw new IllegalArgumentException("no safetensors dtype for " + type);
    };
  }

  private static ScalarType dtypeOf(String name, Path file) throws IOException {
    return switch (name) {
      case "F32" -> ScalarType.Float;
      case "BF16" -> ScalarType.BFloat16;
      case "F16" -> ScalarType.Half;
      case "F64" -> ScalarType.Double;
      case "I64" -> ScalarType.Long;
      case "I32" -> ScalarType.Int;
      case "U8" -> ScalarType.Byte;
      default -> throw new IOException(file + ": unsupported dtype '" + name + "'");
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
