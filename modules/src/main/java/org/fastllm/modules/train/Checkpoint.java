package org.fastllm.modules.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;

/**
 * A saved training state: one folder per save under a run's {@code checkpoints} folder, and a {@code latest} file
 * naming the newest complete one.
 *
 * <pre>
 * checkpoints/step-000100/config.yaml            the fully resolved new-format config
 *                         model.safetensors      each tensor once; sharing map, CRC32s, format version in metadata
 *                         optimizer.safetensors  AdamW moments
 *                         state.json             step, data position, seed, RNG state, format version
 * checkpoints/latest                             "step-000100"
 * </pre>
 *
 * <p><b>A save is atomic:</b> files go to a hidden temporary folder, are forced to disk, and the folder is renamed
 * into place before {@code latest} is replaced (also by rename), so a crash at any moment leaves the previous
 * checkpoint whole and {@code latest} pointing at a complete folder.
 */
public final class Checkpoint {
  public static final int FORMAT_VERSION = 1;
  public static final String LATEST = "latest";
  /**
   * Test hook, {@code STEP:MILLIS}: the save of step {@code STEP} sleeps that long after the weights are written
   * and before the rename, so a test can kill the process in the middle of a save.
   */
  public static final String SLEEP_PROPERTY = "fastllm.test.checkpointSleepMs";
  static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
  private static final String TEMP_PREFIX = ".tmp-";

  /** A checkpoint read back: its folder, config text, tensors and state. */
  public record Loaded(Path folder, String configYaml, Map<String, Tensor> weights, Map<String, String> metadata,
      Map<String, Tensor> optimizer, TrainState state) {}

  private Checkpoint() {}

  /** Writes a checkpoint of {@code state.step()} under {@code checkpoints} and points {@code latest} at it. */
  public static Path save(Path checkpoints, String configYaml, LanguageModel model, AdamW optimizer,
      TrainState state, int keep) throws IOException {
    Files.createDirectories(checkpoints);
    String name = String.format("step-%06d", state.step());
    Path temp = checkpoints.resolve(TEMP_PREFIX + name + "-" + ProcessHandle.current().pid());
    deleteTree(temp);
    Files.createDirectory(temp);
    try (PointerScope scope = new PointerScope()) {
      writeText(temp.resolve("config.yaml"), configYaml);
      Map<String, String> metadata = new LinkedHashMap<>();
      metadata.put("format", "fastllm-checkpoint");
      metadata.put("format_version", Integer.toString(FORMAT_VERSION));
      metadata.put("shared", JSON.writeValueAsString(sharingMap(model)));
      Safetensors.write(temp.resolve("model.safetensors"), weights(model), metadata);
      Safetensors.write(temp.resolve("optimizer.safetensors"), optimizer.state(),
          Map.of("format_version", Integer.toString(FORMAT_VERSION), "steps", Long.toString(optimizer.steps())));
    }
    sleepForTests(state.step());
    writeText(temp.resolve("state.json"), JSON.writeValueAsString(state));
    syncDirectory(temp);
    Path target = checkpoints.resolve(name);
    if (Files.exists(target)) {
      Path old = checkpoints.resolve(TEMP_PREFIX + "old-" + name);
      deleteTree(old);
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(old);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    syncDirectory(checkpoints);
    Path pointer = checkpoints.resolve(TEMP_PREFIX + LATEST);
    Files.deleteIfExists(pointer);
    writeText(pointer, name + "\n");
    Files.move(pointer, checkpoints.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(checkpoints);
    prune(checkpoints, name, keep);
    return target;
  }

  /**
   * The checkpoint folder meant by {@code given}: a checkpoint folder itself, a {@code checkpoints} folder (its
   * {@code latest}), or a run's output folder (its {@code checkpoints/latest}).
   */
  public static Path locate(Path given) {
    if (Files.isRegularFile(given.resolve("state.json"))) {
      return given;
    }
    for (Path folder : List.of(given, given.resolve("checkpoints"))) {
      Path latest = folder.resolve(LATEST);
      if (Files.isRegularFile(latest)) {
        try {
          return folder.resolve(Files.readString(latest, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
          throw new CheckpointException(latest + ": cannot be read: " + e.getMessage(), e);
        }
      }
    }
    throw new CheckpointException(given + ": no checkpoint here (expected a checkpoint folder with state.json, or a "
        + "folder with a 'latest' file or a 'checkpoints/latest' file)");
  }

  public static Loaded load(Path given) {
    Path folder = locate(given);
    try {
      TrainState state = JSON.readValue(folder.resolve("state.json").toFile(), TrainState.class);
      if (state.formatVersion() != FORMAT_VERSION) {
        throw new CheckpointException(folder + ": checkpoint format version " + state.formatVersion()
            + ", this build reads version " + FORMAT_VERSION);
      }
      String config = Files.readString(folder.resolve("config.yaml"), StandardCharsets.UTF_8);
      Safetensors.Contents model = Safetensors.read(folder.resolve("model.safetensors"));
      Safetensors.Contents optimizer = Safetensors.read(folder.resolve("optimizer.safetensors"));
      return new Loaded(folder, config, model.tensors(), model.metadata(), optimizer.tensors(), state);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(folder + ": incomplete checkpoint, " + e.getFile() + " is missing", e);
    } catch (IOException e) {
      throw new CheckpointException(folder + ": cannot be read: " + e.getMessage(), e);
    }
  }

  /** Copies saved weights into the model; names and shapes must match exactly (else the message lists them). */
  public static void restoreWeights(Loaded loaded, LanguageModel model) {
    List<String> problems = new ArrayList<>();
    List<NamedParameter> parameters = model.uniqueParameters();
    for (NamedParameter p : parameters) {
      Tensor saved = loaded.weights().get(p.name());
      if (saved == null) {
        problems.add("'" + p.name() + "' is missing from the checkpoint");
      } else if (!java.util.Arrays.equals(Shapes.of(saved), Shapes.of(p.tensor()))) {
        problems.add("'" + p.name() + "' has shape " + Shapes.text(saved) + " in the checkpoint, "
            + Shapes.text(p.tensor()) + " in the model");
      }
    }
    var names = parameters.stream().map(NamedParameter::name).collect(java.util.stream.Collectors.toSet());
    loaded.weights().keySet().stream().filter(n -> !names.contains(n))
        .forEach(n -> problems.add("'" + n + "' is in the checkpoint but not in the model"));
    if (!problems.isEmpty()) {
      throw new CheckpointException(loaded.folder() + ": weights do not fit the model: " + String.join("; ",
          problems.subList(0, Math.min(5, problems.size())))
          + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
    }
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (NamedParameter p : parameters) {
        p.tensor().copy_(loaded.weights().get(p.name()));
      }
    }
  }

  /** Each unique tensor under its first name. */
  static Map<String, Tensor> weights(LanguageModel model) {
    Map<String, Tensor> weights = new LinkedHashMap<>();
    model.uniqueParameters().forEach(p -> weights.put(p.name(), p.tensor()));
    return weights;
  }

  /** Every later name of a shared tensor, mapped to the name it is stored under. */
  static Map<String, String> sharingMap(LanguageModel model) {
    StringTensorDict named = model.named_parameters(true);
    Map<Long, String> first = new HashMap<>();
    Map<String, String> shared = new LinkedHashMap<>();
    for (long i = 0; i < named.size(); i++) {
      Tensor tensor = new Tensor(named.get(i).value());
      String name = named.get(i).key().getString();
      String stored = first.putIfAbsent(tensor.unsafeGetTensorImpl().address(), name);
      if (stored != null) {
        shared.put(name, stored);
      }
    }
    return shared;
  }

  private static void sleepForTests(long step) {
    String hook = System.getProperty(SLEEP_PROPERTY, "");
    int colon = hook.indexOf(':');
    if (colon > 0 && Long.parseLong(hook.substring(0, colon)) == step) {
      long millis = Long.parseLong(hook.substring(colon + 1));
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void prune(Path checkpoints, String current, int keep) throws IOException {
    List<Path> saves = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(checkpoints)) {
      for (Path p : entries) {
        String n = p.getFileName().toString();
        if (n.startsWith(TEMP_PREFIX) && Files.isDirectory(p) && !n.endsWith("-" + ProcessHandle.current().pid())) {
          deleteTree(p);
        } else if (n.startsWith("step-") && Files.isDirectory(p) && !n.equals(current)) {
          saves.add(p);
        }
      }
    }
    saves.sort(Comparator.comparing(p -> p.getFileName().toString()));
    for (int i = 0; i < saves.size() - (keep - 1); i++) {
      deleteTree(saves.get(i));
    }
  }

  static void writeText(Path file, String text) throws IOException {
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      var buffer = java.nio.ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
  }

  /** Forces a directory's entries to disk (where the platform allows opening a directory). */
  private static void syncDirectory(Path directory) {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not every file system lets a directory be opened; the renames are still atomic there.
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
