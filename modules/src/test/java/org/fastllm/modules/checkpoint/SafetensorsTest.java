package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Stream;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SafetensorsTest {
  @TempDir Path dir;

  private static Map<String, Tensor> tensors() {
    Torch.seed(7);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("a.weight", torch.randn(3, 4));
    tensors.put("b.bias", torch.randn(5));
    tensors.put("ids", torch.arange(new org.bytedeco.pytorch.Scalar(6)).to(torch.ScalarType.Long));
    return tensors;
  }

  @Test
  void write_header_isLengthPrefixedJsonWithOffsetsAndMetadata() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Safetensors.write(file, tensors(), Map.of("format_version", "1"));

    byte[] bytes = Files.readAllBytes(file);
    long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat((8 + length) % 8).isEqualTo(0);
    JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) length, StandardCharsets.UTF_8));
    assertThat(header.path("a.weight").path("dtype").asText()).isEqualTo("F32");
    assertThat(header.path("a.weight").path("shape").toString()).isEqualTo("[3,4]");
    assertThat(header.path("a.weight").path("data_offsets").toString()).isEqualTo("[0,48]");
    assertThat(header.path("b.bias").path("data_offsets").toString()).isEqualTo("[48,68]");
    assertThat(header.path("ids").path("dtype").asText()).isEqualTo("I64");
    assertThat(header.path("__metadata__").path("format_version").asText()).isEqualTo("1");
    assertThat(header.path("__metadata__").path("crc32.a.weight").asText().matches("[0-9a-f]{8}")).isTrue();
    assertThat(bytes.length).isEqualTo(8 + length + 48 + 20 + 48);
  }

  @Test
  void read_writtenFile_givesEqualTensorsAndMetadata() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Map<String, Tensor> written = tensors();
    Safetensors.write(file, written, Map.of("shared", "{}"));

    Safetensors.Contents back = Safetensors.read(file);

    assertThat(back.tensors().keySet()).isEqualTo(written.keySet());
    for (String name : written.keySet()) {
      assertThat(torch.equal(written.get(name), back.tensors().get(name))).as(name).isTrue();
    }
    assertThat(back.metadata()).isEqualTo(Map.of("shared", "{}"));
  }

  @Test
  void read_flippedDataByte_failsNamingTheTensor() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Safetensors.write(file, tensors(), Map.of());
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": tensor 'ids' fails its CRC32 check (the file is damaged)");
  }

  @Test
  void read_bf16Tensor_keepsBits() throws IOException {
    Path file = dir.resolve("bf16.safetensors");
    Tensor t = torch.randn(4, 2).to(torch.ScalarType.BFloat16);
    Safetensors.write(file, Map.of("x", t), Map.of());

    Tensor back = Safetensors.read(file).tensors().get("x");

    assertThat(back.scalar_type().intern()).isEqualTo(torch.ScalarType.BFloat16);
    assertThat(Shapes.of(back)).containsExactly(new long[] {4, 2});
    assertThat(torch.equal(t, back)).isTrue();
  }

  /** File layout of {@link #tensors()}: a.weight F32 [3, 4] at [0, 48], b.bias F32 [5] at [48, 68], ids I64 [6]. */
  private Path written() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Safetensors.write(file, tensors(), Map.of("format_version", "2"));
    return file;
  }

  private static int dataStart(byte[] bytes) {
    return 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  @Test
  void read_everySingleBitFlipInTheHeader_isRefused() throws IOException {
    Path file = written();
    byte[] original = Files.readAllBytes(file);
    int accepted = 0;
    for (int at = 0; at < dataStart(original); at++) {
      for (int bit : new int[] {0x01, 0x20, 0x80}) {
        byte[] bytes = original.clone();
        bytes[at] ^= (byte) bit;
        Files.write(file, bytes);
        try {
          Safetensors.read(file);
          accepted++;
        } catch (IOException e) {
          assertThat(e.getMessage().startsWith(file + ": ")).as(e.getMessage()).isTrue();
        }
      }
    }
    assertThat(accepted).as("flipped header bytes that were read as if whole").isEqualTo(0);
  }

  @Test
  void read_everyFlippedDataByte_failsTheCrcOfTheTensorHoldingIt() throws IOException {
    assertEveryFlippedDataByteFailsTheCrcOfItsTensor(written(), 0x10);
  }

  /** Flips {@code mask} in each data byte of {@code file} in turn; each read must name the tensor holding it. */
  private static void assertEveryFlippedDataByteFailsTheCrcOfItsTensor(Path file, int mask) throws IOException {
    byte[] original = Files.readAllBytes(file);
    int start = dataStart(original);
    for (int at = start; at < original.length; at++) {
      byte[] bytes = original.clone();
      bytes[at] ^= (byte) mask;
      Files.write(file, bytes);
      String tensor = at - start < 48 ? "a.weight" : at - start < 68 ? "b.bias" : "ids";

      IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
      assertThat(e).as("expected IOException to be thrown").isNotNull();

      assertThat(e.getMessage())
          .isEqualTo(file + ": tensor '" + tensor + "' fails its CRC32 check (the file is damaged)");
    }
  }

  @Test
  void read_truncatedFile_namesTheTensorPastTheEnd() throws IOException {
    Path file = written();
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 10));

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo(file + ": tensor 'ids' ends at data byte 116, but the file holds 106 data bytes (the file is "
            + "truncated, or its header is damaged)");
  }

  @Test
  void read_fileShorterThanTheLengthPrefix_isRefused() throws IOException {
    Path file = dir.resolve("short.safetensors");
    Files.write(file, new byte[] {1, 2, 3});

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": the file is 3 bytes, too short for a safetensors header");
  }

  static Stream<Arguments> damagedHeaders() {
    return Stream.of(
        Arguments.of("unknown dtype", (Consumer<ObjectNode>) h -> entry(h, "a.weight").put("dtype", "F33"),
            "tensor 'a.weight': unsupported dtype 'F33' (expected one of F32, BF16, F16, F64, I64, I32, U8, BOOL)"),
        Arguments.of("dtype of another size", (Consumer<ObjectNode>) h -> entry(h, "a.weight").put("dtype", "F64"),
            "tensor 'a.weight': shape [3, 4] of F64 needs 96 bytes, but data_offsets [0, 48] hold 48"),
        Arguments.of("shape of another size", (Consumer<ObjectNode>) h -> entry(h, "a.weight").set("shape",
            array(4, 4)), "tensor 'a.weight': shape [4, 4] of F32 needs 64 bytes, but data_offsets [0, 48] hold 48"),
        Arguments.of("negative dimension", (Consumer<ObjectNode>) h -> entry(h, "a.weight").set("shape",
            array(-3, -4)), "tensor 'a.weight': shape [-3,-4] holds -3, not a whole number >= 0"),
        Arguments.of("offsets missing", (Consumer<ObjectNode>) h -> entry(h, "b.bias").remove("data_offsets"),
            "tensor 'b.bias': data_offsets is missing, not a list of whole numbers"),
        Arguments.of("offsets reversed", (Consumer<ObjectNode>) h -> entry(h, "b.bias").set("data_offsets",
            array(68, 48)), "tensor 'b.bias': data_offsets [68,48] is not a [start, end] pair with start <= end"),
        Arguments.of("offsets overlapping", (Consumer<ObjectNode>) h -> entry(h, "b.bias").set("data_offsets",
            array(40, 60)), "tensor 'b.bias' (data_offsets [40, 60]) overlaps tensor 'a.weight' (data_offsets "
            + "[0, 48])"),
        Arguments.of("offsets past the end", (Consumer<ObjectNode>) h -> {
          entry(h, "ids").set("shape", array(10));
          entry(h, "ids").set("data_offsets", array(68, 148));
        }, "tensor 'ids' ends at data byte 148, but the file holds 116 data bytes (the file is truncated, or its "
            + "header is damaged)"),
        Arguments.of("offsets leaving a gap", (Consumer<ObjectNode>) h -> {
          entry(h, "ids").set("shape", array(5));
          entry(h, "ids").set("data_offsets", array(76, 116));
        }, "data bytes 68 to 76 belong to no tensor (data_offsets of 'ids' start at 76)"),
        Arguments.of("checksum of a tensor removed", (Consumer<ObjectNode>) h -> meta(h).remove("crc32.b.bias"),
            "tensor 'b.bias' has no CRC32 (the header is damaged)"),
        Arguments.of("header checksum removed", (Consumer<ObjectNode>) h -> meta(h).remove("header_crc32"),
            "the header has no header_crc32 of its own (it is damaged)"),
        Arguments.of("metadata value changed", (Consumer<ObjectNode>) h -> meta(h).put("format_version", "3"),
            "the header fails its CRC32 check (the file is damaged)"),
        Arguments.of("shape transposed", (Consumer<ObjectNode>) h -> entry(h, "a.weight").set("shape", array(4, 3)),
            "the header fails its CRC32 check (the file is damaged)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damagedHeaders")
  void read_damagedHeader_namesWhatIsWrong(String damage, Consumer<ObjectNode> edit, String expected)
      throws IOException {
    Path file = written();
    byte[] bytes = Files.readAllBytes(file);
    int start = dataStart(bytes);
    ObjectNode header = (ObjectNode) new ObjectMapper().readTree(new String(bytes, 8, start - 8,
        StandardCharsets.UTF_8));
    edit.accept(header);
    writeWithHeader(file, new ObjectMapper().writeValueAsString(header), bytes, start);

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": " + expected);
  }

  @Test
  void read_headerThatIsNotJson_saysSoWithTheColumn() throws IOException {
    Path file = written();
    byte[] bytes = Files.readAllBytes(file);
    writeWithHeader(file, "{\"a.weight\": nonsense}", bytes, dataStart(bytes));

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage().matches(java.util.regex.Pattern.quote(file + ": the header is not valid JSON (")
        + "Unrecognized token 'nonsense'.* at column \\d+\\)")).as(e.getMessage()).isTrue();
  }

  @Test
  void read_lengthPrefixLargerThanTheFile_isRefused() throws IOException {
    Path file = written();
    byte[] bytes = Files.readAllBytes(file);
    bytes[5] = 1;
    Files.write(file, bytes);

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.read(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    long announced = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertThat(e.getMessage())
        .isEqualTo(file + ": the length prefix announces a " + announced + "-byte header, which does not fit a "
            + bytes.length + "-byte file (damaged, or not a safetensors file)");
  }

  @Nested
  class InSmallChunks {
    private int saved;

    @BeforeEach
    void smallChunks() {
      saved = TensorBytes.chunkBytes;
      TensorBytes.chunkBytes = 7;
    }

    @AfterEach
    void restore() {
      TensorBytes.chunkBytes = saved;
    }

    @Test
    void read_writtenAcrossManyChunks_givesBitEqualTensors() throws IOException {
      Map<String, Tensor> written = tensors();
      written.put("half", torch.randn(5, 3).to(torch.ScalarType.Half));
      written.put("strided", torch.randn(6, 4).t());
      Path file = dir.resolve("chunks.safetensors");
      Safetensors.write(file, written, Map.of());
      TensorBytes.chunkBytes = 1 << 20;

      Safetensors.Contents back = Safetensors.read(file);

      for (String name : written.keySet()) {
        assertThat(torch.equal(written.get(name), back.tensors().get(name))).as(name).isTrue();
      }
    }

    @Test
    void read_everyFlippedDataByte_isFoundAcrossChunkBorders() throws IOException {
      assertEveryFlippedDataByteFailsTheCrcOfItsTensor(written(), 0x04);
    }

    @Test
    void write_inChunks_givesTheSameFileAsInOneChunk() throws IOException {
      Path small = dir.resolve("small.safetensors");
      Safetensors.write(small, tensors(), Map.of("format_version", "2"));
      TensorBytes.chunkBytes = 1 << 20;
      Path whole = dir.resolve("whole.safetensors");
      Safetensors.write(whole, tensors(), Map.of("format_version", "2"));

      assertThat(Files.readAllBytes(small)).isEqualTo(Files.readAllBytes(whole));
    }
  }

  /** A file as another tool writes it: no checksums, any metadata, data given as raw bytes. */
  private Path foreignFile(String json, byte[] data) throws IOException {
    Path file = dir.resolve("foreign.safetensors");
    byte[] prefix = new byte[8];
    writeWithHeader(file, json, concat(prefix, data), 8);
    return file;
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  @Test
  void readExternal_fileWithoutChecksums_givesItsTensorsOfEveryKnownDtype() throws IOException {
    ByteBuffer data = ByteBuffer.allocate(8 + 8 + 3).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(-7).putInt(40).putFloat(1.5f).putFloat(-2f).put((byte) 1).put((byte) 0).put((byte) 1);
    Path file = foreignFile("{\"__metadata__\":{\"format\":\"pt\"},"
        + "\"ids\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"w\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]},"
        + "\"mask\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]}}", data.array());

    Safetensors.Contents back = Safetensors.readExternal(file);

    assertThat(back.metadata()).isEqualTo(Map.of("format", "pt"));
    assertThat(new org.bytedeco.javacpp.IntPointer(back.tensors().get("ids").data_ptr()).get(1)).isEqualTo(40);
    assertThat(new org.bytedeco.javacpp.IntPointer(back.tensors().get("ids").data_ptr()).get(0)).isEqualTo(-7);
    assertThat(new org.bytedeco.javacpp.FloatPointer(back.tensors().get("w").data_ptr()).get(1)).isEqualTo(-2f);
    assertThat(Shapes.of(back.tensors().get("w"))).containsExactly(1, 2);
    assertThat(back.tensors().get("mask").scalar_type().intern()).isEqualTo(torch.ScalarType.Bool);
    assertThat(back.tensors().get("mask").sum().item_long()).isEqualTo(2);
  }

  @Test
  void readExternal_unknownDtype_namesFileTensorAndDtype() throws IOException {
    Path file = foreignFile("{\"w\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}",
        new byte[2]);

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.readExternal(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": tensor 'w': unsupported dtype 'F8_E4M3' (expected one of F32, "
        + "BF16, F16, F64, I64, I32, U8, BOOL)");
  }

  @Test
  void readExternal_tensorChecksumsWithoutHeaderChecksum_areStillChecked() throws IOException {
    Path file = written();
    byte[] bytes = Files.readAllBytes(file);
    int start = dataStart(bytes);
    ObjectNode header = (ObjectNode) new ObjectMapper().readTree(new String(bytes, 8, start - 8,
        StandardCharsets.UTF_8));
    meta(header).remove("header_crc32");
    writeWithHeader(file, new ObjectMapper().writeValueAsString(header), bytes, start);
    assertThat(Safetensors.readExternal(file).tensors().keySet()).containsExactly("a.weight", "b.bias", "ids");
    byte[] edited = Files.readAllBytes(file);
    edited[edited.length - 1] ^= 1;
    Files.write(file, edited);

    IOException e = catchThrowableOfType(IOException.class, () -> Safetensors.readExternal(file));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": tensor 'ids' fails its CRC32 check (the file is damaged)");
  }

  private static void writeWithHeader(Path file, String json, byte[] original, int dataStart) throws IOException {
    byte[] text = json.getBytes(StandardCharsets.UTF_8);
    int padded = (text.length + 7) / 8 * 8;
    ByteBuffer out = ByteBuffer.allocate(8 + padded + original.length - dataStart).order(ByteOrder.LITTLE_ENDIAN);
    out.putLong(padded).put(text);
    for (int i = text.length; i < padded; i++) {
      out.put((byte) ' ');
    }
    out.put(original, dataStart, original.length - dataStart);
    Files.write(file, out.array());
  }

  private static ObjectNode entry(ObjectNode header, String name) {
    return (ObjectNode) header.get(name);
  }

  private static ObjectNode meta(ObjectNode header) {
    return (ObjectNode) header.get("__metadata__");
  }

  private static ArrayNode array(long... values) {
    ArrayNode array = new ObjectMapper().createArrayNode();
    for (long v : values) {
      array.add(v);
    }
    return array;
  }
}
