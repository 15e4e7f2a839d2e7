package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One valid run (checkpoints at steps 2 and 4) is made once; each case copies it, damages its latest checkpoint and
 * resumes: the resume must exit 2 with one 'error:' line naming the file and what is wrong, no stack trace, and point
 * at the older checkpoint. In expected messages {@code {ckpt}} is the damaged folder, {@code {run}} the run folder
 * and {@code *} any text on the line.
 */
class CheckpointDamageTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path valid;

  /** What a case does to the checkpoint folder {@code step-000004}. */
  interface Damage {
    void apply(Path checkpoint) throws IOException;
  }

  @BeforeAll
  static void trainOnce() {
    valid = shared.resolve("run");
    MainTest.Run r = TrainCommandIT.train(valid, concat(TrainCommandIT.SMALL, "training.steps=4",
        "checkpoint.interval=2", "checkpoint.keep=2"));
    assertThat(r.exit()).as(r.err()).isZero();
  }

  static Stream<Arguments> damages() {
    return Stream.of(
        damage("model.safetensors truncated", c -> truncate(c.resolve("model.safetensors"), 100),
            "{ckpt}/model.safetensors: tensor '*' ends at data byte *, but the file holds * data bytes (the file "
                + "is truncated, or its header is damaged)"),
        damage("optimizer.safetensors cut to 5 bytes", c -> truncate(c.resolve("optimizer.safetensors"), -5),
            "{ckpt}/optimizer.safetensors: the file is 5 bytes, too short for a safetensors header"),
        damage("data byte flipped", c -> flipDataByteOf(c.resolve("model.safetensors"), "embeddings.word.weight"),
            "{ckpt}/model.safetensors: tensor 'embeddings.word.weight' fails its CRC32 check (the file is damaged)"),
        damage("header byte flipped in a checksum", c -> flipHeaderByteAfter(c.resolve("model.safetensors"),
            "\"crc32.embeddings.word.weight\":\""),
            "{ckpt}/model.safetensors: the header fails its CRC32 check (the file is damaged)"),
        damage("header byte flipped in the JSON syntax", c -> flipHeaderByteAfter(c.resolve("model.safetensors"),
            "\"__metadata__\""), "{ckpt}/model.safetensors: the header is not valid JSON (*)"),
        damage("model.safetensors missing", c -> Files.delete(c.resolve("model.safetensors")),
            "{ckpt}/model.safetensors: missing (the checkpoint is incomplete)"),
        damage("optimizer.safetensors missing", c -> Files.delete(c.resolve("optimizer.safetensors")),
            "{ckpt}/optimizer.safetensors: missing (the checkpoint is incomplete)"),
        damage("state.json missing", c -> Files.delete(c.resolve("state.json")),
            "{ckpt}/state.json: missing (the checkpoint is incomplete)"),
        damage("config.yaml missing", c -> Files.delete(c.resolve("config.yaml")),
            "{ckpt}/config.yaml: missing (the checkpoint is incomplete)"),
        damage("length prefix too large", c -> patch(c.resolve("model.safetensors"), 6, (byte) 1),
            "{ckpt}/model.safetensors: the length prefix announces a *-byte header, which does not fit a *-byte "
                + "file (damaged, or not a safetensors file)"),
        damage("header not JSON", c -> replaceHeader(c.resolve("model.safetensors"), "not json"),
            "{ckpt}/model.safetensors: the header is not valid JSON (Unrecognized token 'not'*)"),
        damage("dtype of another size", c -> editHeader(c.resolve("model.safetensors"),
            h -> ((ObjectNode) h.get("embeddings.word.weight")).put("dtype", "F16")),
            "{ckpt}/model.safetensors: tensor 'embeddings.word.weight': shape [256, 128] of F16 needs 65536 bytes, but "
                + "data_offsets [0, 131072] hold 131072"),
        damage("shape of another size", c -> editHeader(c.resolve("model.safetensors"),
            h -> ((ObjectNode) h.get("embeddings.word.weight")).putArray("shape").add(128).add(128)),
            "{ckpt}/model.safetensors: tensor 'embeddings.word.weight': shape [128, 128] of F32 needs 65536 bytes, but "
                + "data_offsets [0, 131072] hold 131072"),
        damage("shape transposed (same size)", c -> editHeader(c.resolve("model.safetensors"),
            h -> ((ObjectNode) h.get("embeddings.word.weight")).putArray("shape").add(128).add(256)),
            "{ckpt}/model.safetensors: the header fails its CRC32 check (the file is damaged)"),
        damage("offsets overlapping", c -> editHeader(c.resolve("model.safetensors"), h -> {
          ObjectNode second = (ObjectNode) h.get(secondTensor(h));
          long end = second.get("data_offsets").get(1).asLong();
          long start = second.get("data_offsets").get(0).asLong();
          second.putArray("data_offsets").add(start - 4).add(end - 4);
        }), "{ckpt}/model.safetensors: tensor '*' (data_offsets [131068, *]) overlaps tensor 'embeddings.word.weight' "
            + "(data_offsets [0, 131072])"),
        damage("offsets past the end", c -> editHeader(c.resolve("model.safetensors"), h -> {
          ObjectNode last = (ObjectNode) h.get(lastTensor(h));
          long start = last.get("data_offsets").get(0).asLong();
          long end = last.get("data_offsets").get(1).asLong();
          long first = last.get("shape").get(0).asLong();
          ((com.fasterxml.jackson.databind.node.ArrayNode) last.get("shape")).set(0, 2 * first);
          last.putArray("data_offsets").add(start).add(start + 2 * (end - start));
        }), "{ckpt}/model.safetensors: tensor '*' ends at data byte *, but the file holds * data bytes (the file is "
            + "truncated, or its header is damaged)"),
        damage("optimizer of another save", c -> Files.copy(c.resolveSibling("step-000002")
            .resolve("optimizer.safetensors"), c.resolve("optimizer.safetensors"),
            java.nio.file.StandardCopyOption.REPLACE_EXISTING),
            "{ckpt}/optimizer.safetensors: holds the optimizer of step 2, but state.json is of step 4 (files of "
                + "different saves)"),
        damage("state.json not JSON", c -> Files.writeString(c.resolve("state.json"), "{\"step\": 4,"),
            "{ckpt}/state.json: not a valid state file (*, line 1, column *)"),
        damage("state.json of a future format", c -> replaceIn(c.resolve("state.json"), "\"format_version\":2",
            "\"format_version\":9"), "{ckpt}/state.json: checkpoint format version 9, this build reads versions 1 "
                + "to 2"),
        damage("generator state damaged", c -> replaceIn(c.resolve("state.json"), "\"torch_rng\":\"",
            "\"torch_rng\":\"AAAA"), "{ckpt}/state.json: torch_rng is not a libtorch CPU generator state (*)"),
        damage("config of another model", c -> replaceIn(c.resolve("config.yaml"), "ffn_hidden_size: 256",
            "ffn_hidden_size: 64"), "{ckpt}/model.safetensors: does not fit the model of the config: "
                + "'layers.*' has shape [*] in the checkpoint, [*] in the model; *"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("damages")
  void resume_damagedCheckpoint_exits2NamingTheFileAndTheOlderCheckpoint(String name, Damage damage,
      String expected) throws IOException {
    Path run = copyOfValidRun();
    Path checkpoint = run.resolve("checkpoints/step-000004");
    damage.apply(checkpoint);

    MainTest.Run r = MainTest.run("train", "--resume", run.toString(), "training.steps=6");

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    String line = expected.replace("{ckpt}", checkpoint.toString()).replace("{run}", run.toString());
    assertThat(r.err()).as(name).containsPattern("(?m)^" + wildcards("error: " + line) + "$");
    assertThat(r.err()).contains("other checkpoints: step-000002; resume the newest with --resume "
        + run.resolve("checkpoints/step-000002"));
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(r.out()).isEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pointers")
  void resume_latestPointingNowhere_exits2NamingTheLatestFile(String name, String latest) throws IOException {
    Path run = copyOfValidRun();
    Files.writeString(run.resolve("checkpoints/latest"), latest);

    MainTest.Run r = MainTest.run("train", "--resume", run.toString(), "training.steps=6");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: " + run.resolve("checkpoints/latest") + ": names '" + latest.strip()
        + "', which is not a checkpoint folder in " + run.resolve("checkpoints") + "\n");
  }

  static Stream<Arguments> pointers() {
    return Stream.of(Arguments.of("a deleted folder", "step-000009\n"), Arguments.of("garbage", "../../etc\n"));
  }

  @org.junit.jupiter.api.Test
  void resume_withConfigOfAnotherModel_listsTheDifferences() throws IOException {
    Path run = copyOfValidRun();
    Path other = dir.resolve("other.yaml");
    Files.writeString(other, Files.readString(run.resolve("checkpoints/step-000004/config.yaml"))
        .replace("num_layers: 4", "num_layers: 8"));

    MainTest.Run r = MainTest.run("train", "--resume", run.toString(), "--config", other.toString());

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: checkpoint " + run.resolve("checkpoints/step-000004")
        + " holds a different model than the config:\n").contains("  model.num_layers is 4 in the checkpoint, 8 in "
        + "the config\n");
  }

  private static Arguments damage(String name, Damage damage, String expected) {
    return Arguments.of(name, damage, expected);
  }

  private Path copyOfValidRun() throws IOException {
    Path copy = dir.resolve("run");
    try (Stream<Path> walk = Files.walk(valid)) {
      for (Path p : walk.sorted(Comparator.naturalOrder()).toList()) {
        Path target = copy.resolve(valid.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return copy;
  }

  private static String wildcards(String expected) {
    return Arrays.stream(expected.split("\\*", -1)).map(Pattern::quote)
        .reduce((a, b) -> a + "[^\\n]*" + b).orElseThrow();
  }

  private static void truncate(Path file, int bytes) throws IOException {
    byte[] all = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(all, bytes > 0 ? all.length - bytes : -bytes));
  }

  private static void patch(Path file, int at, byte value) throws IOException {
    byte[] all = Files.readAllBytes(file);
    all[at] = value;
    Files.write(file, all);
  }

  private static int dataStart(byte[] bytes) {
    return 8 + (int) ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
  }

  private static ObjectNode header(byte[] bytes) throws IOException {
    return (ObjectNode) new ObjectMapper().readTree(new String(bytes, 8, dataStart(bytes) - 8,
        StandardCharsets.UTF_8));
  }

  private static void flipDataByteOf(Path file, String tensor) throws IOException {
    byte[] all = Files.readAllBytes(file);
    long start = header(all).get(tensor).get("data_offsets").get(0).asLong();
    all[Math.toIntExact(dataStart(all) + start + 7)] ^= 0x04;
    Files.write(file, all);
  }

  private static void flipHeaderByteAfter(Path file, String text) throws IOException {
    byte[] all = Files.readAllBytes(file);
    int at = new String(all, StandardCharsets.ISO_8859_1).indexOf(text);
    assertThat(at).as(text).isPositive();
    all[at + text.length()] ^= 0x01;
    Files.write(file, all);
  }

  private static void replaceHeader(Path file, String json) throws IOException {
    byte[] all = Files.readAllBytes(file);
    writeWithHeader(file, json, all);
  }

  private static void editHeader(Path file, java.util.function.Consumer<ObjectNode> edit) throws IOException {
    byte[] all = Files.readAllBytes(file);
    ObjectNode header = header(all);
    edit.accept(header);
    writeWithHeader(file, new ObjectMapper().writeValueAsString(header), all);
  }

  private static String secondTensor(ObjectNode header) {
    java.util.List<String> names = new java.util.ArrayList<>();
    header.fieldNames().forEachRemaining(names::add);
    return names.stream()
        .filter(k -> !k.equals("__metadata__") && !k.equals("embeddings.word.weight"))
        .filter(k -> header.get(k).get("data_offsets").get(0).asLong() == 131072).findFirst().orElseThrow();
  }

  private static String lastTensor(ObjectNode header) {
    java.util.List<String> names = new java.util.ArrayList<>();
    header.fieldNames().forEachRemaining(names::add);
    names.remove("__metadata__");
    return names.stream().max(Comparator.comparingLong(k -> header.get(k).get("data_offsets").get(0).asLong()))
        .orElseThrow();
  }

  private static void writeWithHeader(Path file, String json, byte[] original) throws IOException {
    int dataStart = dataStart(original);
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

  private static void replaceIn(Path file, String from, String to) throws IOException {
    String text = Files.readString(file);
    assertThat(text).contains(from);
    Files.writeString(file, text.replaceFirst(Pattern.quote(from), to));
  }

  private static String[] concat(String[] first, String... more) {
    return Stream.concat(Stream.of(first), Stream.of(more)).toArray(String[]::new);
  }
}
