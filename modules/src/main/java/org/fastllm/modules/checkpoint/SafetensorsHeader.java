package org.fastllm.modules.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The JSON header of a safetensors file, checked for everything that can be checked without the data: valid UTF-8
 * JSON, known dtypes, shapes that match their byte ranges, byte ranges that tile the data region exactly (no overlap,
 * no gap, nothing past the end of the file), a checksum for every tensor, and the header's own checksum.
 *
 * <pre>{@code
 * // given byte[] bytes, long fileSize
 * SafetensorsHeader header = SafetensorsHeader.parse(bytes, fileSize, true);   // bytes: length prefix + JSON
 * header.tensors().get(0).name();                                             // in data order
 * }</pre>
 *
 * <p><b>Every problem is an {@link IOException} whose message says what is wrong</b>, without the file name (the
 * caller adds it).
 */
final class SafetensorsHeader {
  /** Metadata key of the header's own CRC32, computed with its 8 hex digits written as zeros. */
  static final String HEADER_CRC = "header_crc32";
  static final String CRC = "crc32.";
  static final String PLACEHOLDER = "00000000";
  private static final String MARKER = "\"" + HEADER_CRC + "\":\"";
  private static final ObjectMapper STRICT = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  /** One tensor's entry; {@code start} and {@code end} are offsets into the data region. */
  record Entry(String name, ScalarType dtype, long[] shape, long start, long end, String crc) {}

  private final List<Entry> tensors;
  private final Map<String, String> metadata;
  private final boolean checksummed;
  private final long dataStart;

  private SafetensorsHeader(List<Entry> tensors, Map<String, String> metadata, boolean checksummed,
      long dataStart) {
    this.dataStart = dataStart;
    this.tensors = List.copyOf(tensors);
    this.metadata = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    this.checksummed = checksummed;
  }

  /** Tensors in data order. */
  List<Entry> tensors() {
    return tensors;
  }

  /** Metadata without the checksums, in file order. */
  Map<String, String> metadata() {
    return metadata;
  }

  /** Where the data region starts in the file: after the length prefix and the header. */
  long dataStart() {
    return dataStart;
  }

  /** Whether the header carried its own checksum (files of this project since checkpoint format 2 do). */
  boolean checksummed() {
    return checksummed;
  }

  /**
   * Checks {@code prefixAndJson} (the 8-byte length and the JSON text it announces) of a file of {@code fileSize}
   * bytes. With {@code requireChecksums}, a header that holds per-tensor checksums must also hold its own.
   */
  static SafetensorsHeader parse(byte[] prefixAndJson, long fileSize, boolean requireChecksums) throws IOException {
    long dataStart = prefixAndJson.length;
    JsonNode header = json(prefixAndJson);
    Map<String, String> metadata = new LinkedHashMap<>();
    Map<String, String> checksums = new LinkedHashMap<>();
    String headerCrc = null;
    for (Map.Entry<String, JsonNode> e : header.path("__metadata__").properties()) {
      if (!e.getValue().isTextual()) {
        throw new IOException("__metadata__." + e.getKey() + " is " + e.getValue() + ", not a string");
      }
      if (e.getKey().equals(HEADER_CRC)) {
        headerCrc = e.getValue().asText();
      } else if (e.getKey().startsWith(CRC)) {
        checksums.put(e.getKey().substring(CRC.length()), e.getValue().asText());
      } else {
        metadata.put(e.getKey(), e.getValue().asText());
      }
    }
    List<Entry> tensors = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : header.properties()) {
      if (!e.getKey().equals("__metadata__")) {
        tensors.add(entry(e.getKey(), e.getValue(), checksums.get(e.getKey())));
      }
    }
    tensors.sort(Comparator.comparingLong(Entry::start));
    checkTiling(tensors, fileSize - dataStart);
    checkChecksumsCoverTensors(tensors, checksums);
    if (headerCrc != null) {
      checkHeaderCrc(prefixAndJson, headerCrc);
    } else if (requireChecksums && !checksums.isEmpty()) {
      throw new IOException("the header has no " + HEADER_CRC + " of its own (it is damaged)");
    }
    return new SafetensorsHeader(tensors, metadata, headerCrc != null, dataStart);
  }

  /** The header bytes with the header checksum's digits zeroed: what the checksum is computed over. */
  static byte[] withCrcZeroed(byte[] prefixAndJson) {
    String text = new String(prefixAndJson, StandardCharsets.ISO_8859_1);
    int at = text.indexOf(MARKER);
    byte[] copy = prefixAndJson.clone();
    if (at >= 0 && at + MARKER.length() + PLACEHOLDER.length() <= copy.length) {
      byte[] zeros = PLACEHOLDER.getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(zeros, 0, copy, at + MARKER.length(), zeros.length);
    }
    return copy;
  }

  /** Where the header checksum's digits start, or -1. */
  static int crcPosition(byte[] prefixAndJson) {
    int at = new String(prefixAndJson, StandardCharsets.ISO_8859_1).indexOf(MARKER);
    return at < 0 ? -1 : at + MARKER.length();
  }

  private static JsonNode json(byte[] prefixAndJson) throws IOException {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(prefixAndJson, 8, prefixAndJson.length - 8)).toString();
    } catch (CharacterCodingException e) {
      throw new IOException("the header is not UTF-8 text (damaged, or not a safetensors file)");
    }
    JsonNode header;
    try {
      header = STRICT.readTree(text.strip());
    } catch (JsonProcessingException e) {
      throw new IOException("the header is not valid JSON (" + e.getOriginalMessage().lines().findFirst().orElse("")
          + " at column " + e.getLocation().getColumnNr() + ")");
    }
    if (header == null || !header.isObject()) {
      throw new IOException("the header is not a JSON object");
    }
    return header;
  }

  private static Entry entry(String name, JsonNode node, String crc) throws IOException {
    String where = "tensor '" + name + "'";
    if (!node.isObject()) {
      throw new IOException(where + " is " + node + ", not an object with dtype, shape and data_offsets");
    }
    String dtypeName = node.path("dtype").asText("");
    ScalarType dtype = Safetensors.dtypeOf(dtypeName);
    if (dtype == null) {
      throw new IOException(where + ": unsupported dtype '" + dtypeName + "' (expected one of F32, BF16, F16, F64, "
          + "I64, I32, U8, BOOL)");
    }
    long[] shape = naturals(node.path("shape"), where + ": shape");
    long[] offsets = naturals(node.path("data_offsets"), where + ": data_offsets");
    if (offsets.length != 2 || offsets[1] < offsets[0]) {
      throw new IOException(where + ": data_offsets " + node.path("data_offsets")
          + " is not a [start, end] pair with start <= end");
    }
    long bytes = Safetensors.elementSize(dtype);
    try {
      for (long d : shape) {
        bytes = Math.multiplyExact(bytes, d);
      }
    } catch (ArithmeticException e) {
      throw new IOException(where + ": shape " + Arrays.toString(shape) + " is too large");
    }
    if (bytes != offsets[1] - offsets[0]) {
      throw new IOException(where + ": shape " + Arrays.toString(shape) + " of " + dtypeName + " needs " + bytes
          + " bytes, but data_offsets " + Arrays.toString(offsets) + " hold " + (offsets[1] - offsets[0]));
    }
    return new Entry(name, dtype, shape, offsets[0], offsets[1], crc);
  }

  private static long[] naturals(JsonNode array, String what) throws IOException {
    if (!array.isArray()) {
      throw new IOException(what + " is " + (array.isMissingNode() ? "missing" : array.toString())
          + ", not a list of whole numbers");
    }
    long[] values = new long[array.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode v = array.get(i);
      if (!v.canConvertToLong() || !v.isIntegralNumber() || v.asLong() < 0) {
        throw new IOException(what + " " + array + " holds " + v + ", not a whole number >= 0");
      }
      values[i] = v.asLong();
    }
    return values;
  }

  /** The byte ranges, sorted by start, must cover {@code [0, dataSize)} exactly once. */
  private static void checkTiling(List<Entry> tensors, long dataSize) throws IOException {
    long covered = 0;
    Entry previous = null;
    for (Entry t : tensors) {
      if (t.start() < covered) {
        throw new IOException("tensor '" + t.name() + "' (data_offsets [" + t.start() + ", " + t.end()
            + "]) overlaps tensor '" + previous.name() + "' (data_offsets [" + previous.start() + ", "
            + previous.end() + "])");
      }
      if (t.start() > covered) {
        throw new IOException("data bytes " + covered + " to " + t.start() + " belong to no tensor (data_offsets "
            + "of '" + t.name() + "' start at " + t.start() + ")");
      }
      if (t.end() > dataSize) {
        throw new IOException("tensor '" + t.name() + "' ends at data byte " + t.end() + ", but the file holds "
            + dataSize + " data bytes (the file is truncated, or its header is damaged)");
      }
      covered = t.end();
      previous = t;
    }
    if (covered < dataSize) {
      throw new IOException("the file holds " + dataSize + " data bytes, but its tensors end at " + covered
          + " (the file is damaged)");
    }
  }

  private static void checkChecksumsCoverTensors(List<Entry> tensors, Map<String, String> checksums)
      throws IOException {
    if (checksums.isEmpty()) {
      return;
    }
    for (Entry t : tensors) {
      if (t.crc() == null) {
        throw new IOException("tensor '" + t.name() + "' has no CRC32 (the header is damaged)");
      }
    }
    var names = tensors.stream().map(Entry::name).toList();
    for (String name : checksums.keySet()) {
      if (!names.contains(name)) {
        throw new IOException(CRC + name + " names no tensor (the header is damaged)");
      }
    }
  }

  private static void checkHeaderCrc(byte[] prefixAndJson, String stored) throws IOException {
    if (crcPosition(prefixAndJson) < 0) {
      throw new IOException("the header's " + HEADER_CRC + " is not where it is written (the header is damaged)");
    }
    String actual = Safetensors.crc(withCrcZeroed(prefixAndJson));
    if (!actual.equals(stored)) {
      throw new IOException("the header fails its CRC32 check (the file is damaged)");
    }
  }
}
