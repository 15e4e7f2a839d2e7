package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {
  @TempDir Path dir;

  /** 96 + 32 + 40 + 16 + 24 bytes: f32 [4, 6], bf16 [4, 4], f16 [20], f32 [4], bf16 [12]. */
  private static Map<String, Tensor> tensors() {
    Torch.seed(11);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("embed.weight", torch.randn(4, 6));
    tensors.put("layers.0.q.weight", torch.randn(4, 4).to(torch.ScalarType.BFloat16));
    tensors.put("layers.0.k.weight", torch.randn(20).to(torch.ScalarType.Half));
    tensors.put("layers.0.norm.weight", torch.randn(4));
    tensors.put("head.weight", torch.randn(12).to(torch.ScalarType.BFloat16));
    return tensors;
  }

  private static void assertBitEqual(Map<String, Tensor> expected, Map<String, Tensor> actual) {
    assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
    expected.forEach((name, t) -> {
      Tensor back = actual.get(name);
      assertThat(back.scalar_type().intern()).as(name).isEqualTo(t.scalar_type().intern());
      assertThat(Shapes.of(back)).as(name).isEqualTo(Shapes.of(t));
      // Bits, not values: compare the raw bytes reinterpreted as integers of the same width.
      assertThat(torch.equal(t.view(torch.ScalarType.Byte), back.view(torch.ScalarType.Byte))).as(name).isTrue();
    });
  }

  private static JsonNode index(Path folder) throws IOException {
    return new ObjectMapper().readTree(folder.resolve(ShardedSafetensors.INDEX).toFile());
  }

  @Nested
  class Write {
    @Test
    void write_totalWithinTheLimit_writesOneFileAndNoIndex() throws IOException {
      List<Path> files = ShardedSafetensors.write(dir, tensors(), Map.of("format", "pt"), 208);

      assertThat(files).containsExactly(dir.resolve("model.safetensors"));
      assertThat(dir.resolve(ShardedSafetensors.INDEX)).doesNotExist();
      assertBitEqual(tensors(), ShardedSafetensors.read(dir).tensors());
    }

    @Test
    void write_aboveTheLimit_fillsShardsInOrderWithoutSplittingATensor() throws IOException {
      List<Path> files = ShardedSafetensors.write(dir, tensors(), Map.of("format", "pt"), 100);

      assertThat(files.stream().map(p -> p.getFileName().toString())).containsExactly(
          "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors",
          ShardedSafetensors.INDEX);
      JsonNode index = index(dir);
      assertThat(index.path("metadata").path("total_size").asLong()).isEqualTo(96 + 32 + 40 + 16 + 24);
      JsonNode map = index.path("weight_map");
      assertThat(map.path("embed.weight").asText()).isEqualTo("model-00001-of-00003.safetensors");
      assertThat(map.path("layers.0.q.weight").asText()).isEqualTo("model-00002-of-00003.safetensors");
      assertThat(map.path("layers.0.k.weight").asText()).isEqualTo("model-00002-of-00003.safetensors");
      assertThat(map.path("layers.0.norm.weight").asText()).isEqualTo("model-00002-of-00003.safetensors");
      assertThat(map.path("head.weight").asText()).isEqualTo("model-00003-of-00003.safetensors");
      for (Path shard : files.subList(0, 3)) {
        assertThat(Safetensors.read(shard).metadata()).as(shard.toString()).isEqualTo(Map.of("format", "pt"));
      }
    }

    @Test
    void write_tensorLargerThanTheLimit_getsAShardOfItsOwn() throws IOException {
      List<Path> files = ShardedSafetensors.write(dir, tensors(), Map.of(), 50);

      JsonNode map = index(dir).path("weight_map");
      assertThat(map.path("embed.weight").asText()).isEqualTo("model-00001-of-00004.safetensors");
      assertThat(map.path("layers.0.q.weight").asText()).isEqualTo("model-00002-of-00004.safetensors");
      assertThat(map.path("layers.0.k.weight").asText()).isEqualTo("model-00003-of-00004.safetensors");
      assertThat(map.path("layers.0.norm.weight").asText()).isEqualTo("model-00004-of-00004.safetensors");
      assertThat(map.path("head.weight").asText()).isEqualTo("model-00004-of-00004.safetensors");
      assertThat(files).hasSize(5);
    }

    @Test
    void read_shardedFolder_givesBitEqualTensorsInOrderAndTheMetadata() throws IOException {
      ShardedSafetensors.write(dir, tensors(), Map.of("format", "pt"), 60);

      Safetensors.Contents back = ShardedSafetensors.read(dir);

      assertBitEqual(tensors(), back.tensors());
      assertThat(back.metadata()).isEqualTo(Map.of("format", "pt"));
    }

    @Test
    void read_singleFile_readsIt() throws IOException {
      Path file = dir.resolve("weights.safetensors");
      Safetensors.write(file, tensors(), Map.of());

      assertBitEqual(tensors(), ShardedSafetensors.read(file).tensors());
    }
  }

  @Nested
  class IndexErrors {
    private Path sharded() throws IOException {
      ShardedSafetensors.write(dir, tensors(), Map.of(), 100);
      return dir;
    }

    private void editIndex(java.util.function.Consumer<ObjectNode> edit) throws IOException {
      ObjectNode index = (ObjectNode) index(dir);
      edit.accept((ObjectNode) index.get("weight_map"));
      Files.writeString(dir.resolve(ShardedSafetensors.INDEX), new ObjectMapper().writeValueAsString(index));
    }

    private String failure() {
      IOException e = catchThrowableOfType(IOException.class, () -> ShardedSafetensors.read(dir));
      assertThat(e).as("expected IOException to be thrown").isNotNull();
      return e.getMessage();
    }

    @Test
    void read_indexNamingATensorTheShardLacks_namesShardAndTensor() throws IOException {
      sharded();
      editIndex(map -> map.put("extra.weight", "model-00001-of-00003.safetensors"));

      assertThat(failure()).isEqualTo(dir.resolve("model-00001-of-00003.safetensors")
          + ": lacks tensor 'extra.weight', which model.safetensors.index.json places in this shard");
    }

    @Test
    void read_shardHoldingATensorTheIndexOmits_namesShardAndTensor() throws IOException {
      sharded();
      editIndex(map -> map.remove("layers.0.q.weight"));

      assertThat(failure()).isEqualTo(dir.resolve("model-00002-of-00003.safetensors")
          + ": holds tensor 'layers.0.q.weight', which model.safetensors.index.json does not place in this shard");
    }

    @Test
    void read_tensorPlacedInTheWrongShard_isRefused() throws IOException {
      sharded();
      editIndex(map -> map.put("head.weight", "model-00001-of-00003.safetensors"));

      assertThat(failure()).isEqualTo(dir.resolve("model-00001-of-00003.safetensors")
          + ": lacks tensor 'head.weight', which model.safetensors.index.json places in this shard");
    }

    @Test
    void read_missingShard_namesIt() throws IOException {
      sharded();
      Files.delete(dir.resolve("model-00002-of-00003.safetensors"));

      assertThat(failure()).isEqualTo(dir.resolve(ShardedSafetensors.INDEX) + ": names shard "
          + "'model-00002-of-00003.safetensors' (for tensor 'layers.0.q.weight'), which is not in " + dir);
    }

    @Test
    void read_shardOutsideTheFolder_isRefused() throws IOException {
      sharded();
      editIndex(map -> map.put("head.weight", "../elsewhere.safetensors"));

      assertThat(failure()).isEqualTo(dir.resolve(ShardedSafetensors.INDEX) + ": weight_map.head.weight is "
          + "\"../elsewhere.safetensors\", not the name of a file in the same folder");
    }

    @Test
    void read_folderWithoutWeights_saysWhatItLooksFor() {
      assertThat(failure()).isEqualTo(dir + ": holds neither model.safetensors nor model.safetensors.index.json");
    }
  }
}
