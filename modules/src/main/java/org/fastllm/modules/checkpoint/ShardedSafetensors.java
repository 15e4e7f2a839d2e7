package org.fastllm.modules.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Safetensors weights as a Hugging Face folder holds them: one {@code model.safetensors}, or shards
 * {@code model-00001-of-00003.safetensors} ... named by {@code model.safetensors.index.json}, whose
 * {@code weight_map} says which shard holds each tensor.
 *
 * <pre>{@code
 * // given Path folder, Map<String, Tensor> weights
 * ShardedSafetensors.write(folder, weights, Map.of("format", "pt"), 5_000_000_000L);
 * Safetensors.Contents back = ShardedSafetensors.read(folder);   // every shard checked against the index
 * }</pre>
 *
 * <p><b>A folder read back holds exactly the tensors its index names, each in the shard the index says</b>: a
 * tensor missing from its shard, or a shard holding a tensor the index does not place there, is an
 * {@link IOException} naming the file and the tensor. Shards are read as {@link Safetensors#readExternal} reads a
 * file, so files written by other tools are accepted.
 */
public final class ShardedSafetensors {
  /** The index file of a sharded folder. */
  public static final String INDEX = "model.safetensors.index.json";
  /** The single file of an unsharded folder. */
  public static final String SINGLE = "model.safetensors";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ShardedSafetensors() {}

  /**
   * The tensors of {@code folderOrFile}: a file is read on its own; a folder through its {@value #SINGLE}, else
   * through its {@value #INDEX}. Tensors come shard by shard (shards in the index's order of first mention), each
   * shard's in file order; the metadata is the first shard's, with keys only later shards carry added.
   */
  public static Safetensors.Contents read(Path folderOrFile) throws IOException {
    if (!Files.isDirectory(folderOrFile)) {
      return Safetensors.readExternal(folderOrFile);
    }
    if (Files.isRegularFile(folderOrFile.resolve(SINGLE))) {
      return Safetensors.readExternal(folderOrFile.resolve(SINGLE));
    }
    Path index = folderOrFile.resolve(INDEX);
    if (!Files.isRegularFile(index)) {
      throw new NoSuchFileException(folderOrFile + ": holds neither " + SINGLE + " nor " + INDEX);
    }
    Map<String, List<String>> shards = shardsOf(index);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> shard : shards.entrySet()) {
      Path file = folderOrFile.resolve(shard.getKey());
      if (!Files.isRegularFile(file)) {
        throw new NoSuchFileException(index + ": names shard '" + shard.getKey() + "' (for tensor '"
            + shard.getValue().get(0) + "'), which is not in " + folderOrFile);
      }
      Safetensors.Contents contents = Safetensors.readExternal(file);
      java.util.Set<String> placed = new java.util.HashSet<>(shard.getValue());
      for (String name : contents.tensors().keySet()) {
        if (!placed.contains(name)) {
          throw new IOException(file + ": holds tensor '" + name + "', which " + INDEX + " does not place in this "
              + "shard");
        }
      }
      for (String name : shard.getValue()) {
        if (!contents.tensors().containsKey(name)) {
          throw new IOException(file + ": lacks tensor '" + name + "', which " + INDEX + " places in this shard");
        }
      }
      tensors.putAll(contents.tensors());
      contents.metadata().forEach(metadata::putIfAbsent);
    }
    return new Safetensors.Contents(tensors, metadata);
  }

  /**
   * Writes {@code tensors} into {@code folder} (created if needed): one {@value #SINGLE} when their bytes sum to at
   * most {@code maxShardBytes}, else shards of at most that many tensor bytes (a larger tensor gets a shard of its
   * own; tensors are never split and keep their order) and the index, whose {@code total_size} is the sum of the
   * tensor bytes. Every shard carries {@code metadata}. Returns the files written, the index last.
   */
  public static List<Path> write(Path folder, Map<String, Tensor> tensors, Map<String, String> metadata,
      long maxShardBytes) throws IOException {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("maxShardBytes is " + maxShardBytes + ", must be > 0");
    }
    Files.createDirectories(folder);
    List<Map<String, Tensor>> groups = new ArrayList<>();
    long total = 0;
    long inGroup = 0;
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      long bytes = e.getValue().nbytes();
      if (groups.isEmpty() || (inGroup > 0 && inGroup + bytes > maxShardBytes)) {
        groups.add(new LinkedHashMap<>());
        inGroup = 0;
      }
      groups.get(groups.size() - 1).put(e.getKey(), e.getValue());
      inGroup += bytes;
      total += bytes;
    }
    if (groups.size() <= 1) {
      Path file = folder.resolve(SINGLE);
      Safetensors.write(file, tensors, metadata);
      return List.of(file);
    }
    List<Path> written = new ArrayList<>();
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", total);
    ObjectNode weightMap = index.putObject("weight_map");
    for (int i = 0; i < groups.size(); i++) {
      String name = String.format("model-%05d-of-%05d.safetensors", i + 1, groups.size());
      Path file = folder.resolve(name);
      Safetensors.write(file, groups.get(i), metadata);
      groups.get(i).keySet().forEach(t -> weightMap.put(t, name));
      written.add(file);
    }
    Path indexFile = folder.resolve(INDEX);
    CheckpointFiles.writeText(indexFile, JSON.writeValueAsString(index) + "\n");
    written.add(indexFile);
    return List.copyOf(written);
  }

  /** Shard file name to the tensors the index places there, in the index's order. */
  private static Map<String, List<String>> shardsOf(Path index) throws IOException {
    JsonNode root;
    try {
      root = JSON.readTree(Files.readString(index, StandardCharsets.UTF_8));
    } catch (JsonProcessingException e) {
      throw new IOException(index + ": not valid JSON (" + e.getOriginalMessage().lines().findFirst().orElse("")
          + ", line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject() || map.isEmpty()) {
      throw new IOException(index + ": has no weight_map (expected {\"weight_map\": {tensor name: shard file}})");
    }
    Map<String, List<String>> shards = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      String shard = e.getValue().asText("");
      if (!e.getValue().isTextual() || shard.isEmpty() || shard.contains("/") || shard.contains("\\")
          || shard.startsWith(".")) {
        throw new IOException(index + ": weight_map." + e.getKey() + " is " + e.getValue() + ", not the name of a "
            + "file in the same folder");
      }
      shards.computeIfAbsent(shard, s -> new ArrayList<>()).add(e.getKey());
    }
    return shards;
  }
}
