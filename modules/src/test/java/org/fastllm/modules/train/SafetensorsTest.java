package org.fastllm.modules.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
    assertEquals(0, (8 + length) % 8);
    JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) length, StandardCharsets.UTF_8));
    assertEquals("F32", header.path("a.weight").path("dtype").asText());
    assertEquals("[3,4]", header.path("a.weight").path("shape").toString());
    assertEquals("[0,48]", header.path("a.weight").path("data_offsets").toString());
    assertEquals("[48,68]", header.path("b.bias").path("data_offsets").toString());
    assertEquals("I64", header.path("ids").path("dtype").asText());
    assertEquals("1", header.path("__metadata__").path("format_version").asText());
    assertTrue(header.path("__metadata__").path("crc32.a.weight").asText().matches("[0-9a-f]{8}"));
    assertEquals(8 + length + 48 + 20 + 48, bytes.length);
  }

  @Test
  void read_writtenFile_givesEqualTensorsAndMetadata() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Map<String, Tensor> written = tensors();
    Safetensors.write(file, written, Map.of("shared", "{}"));

    Safetensors.Contents back = Safetensors.read(file);

    assertEquals(written.keySet(), back.tensors().keySet());
    for (String name : written.keySet()) {
      assertTrue(torch.equal(written.get(name), back.tensors().get(name)), name);
    }
    assertEquals(Map.of("shared", "{}"), back.metadata());
  }

  @Test
  void read_flippedDataByte_failsNamingTheTensor() throws IOException {
    Path file = dir.resolve("t.safetensors");
    Safetensors.write(file, tensors(), Map.of());
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length - 1] ^= 1;
    Files.write(file, bytes);

    IOException e = assertThrows(IOException.class, () -> Safetensors.read(file));

    assertEquals(file + ": tensor 'ids' fails its CRC32 check (the file is damaged)", e.getMessage());
  }

  @Test
  void read_bf16Tensor_keepsBits() throws IOException {
    Path file = dir.resolve("bf16.safetensors");
    Tensor t = torch.randn(4, 2).to(torch.ScalarType.BFloat16);
    Safetensors.write(file, Map.of("x", t), Map.of());

    Tensor back = Safetensors.read(file).tensors().get("x");

    assertEquals(torch.ScalarType.BFloat16, back.scalar_type().intern());
    assertArrayEquals(new long[] {4, 2}, Shapes.of(back));
    assertTrue(torch.equal(t, back));
  }
}
