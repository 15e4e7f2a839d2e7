package org.fastllm.modules.checkpoint;

import org.fastllm.modules.optim.AdamW;

import com.fasterxml.jackson.core.JsonProcessingException;
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
  /** 2: safetensors headers carry their own CRC32 (version 1 checkpoints are still read, without that check). */
  public static final int FORMAT_VERSION = 2;
  public static final String LATEST = "latest";
  /**
   * Test hook, {@code STEP:MILLIS}: the save of step {@code STEP} sleeps that long after the weights are written
   * and before the rename, so a test can kill the process in the middle of a save.
   */
  public static final String SLEEP_PROPERTY = "fastllm.test.checkpointSleepMs";
  /**
   * Test hook, a step number: the save of that step fails part-way through as on a full disk (see
   * {@code DiskFullForTests}).
   */
  public static final String DISK_FULL_PROPERTY = "fastllm.test.checkpointDiskFullAtStep";
  public static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
  private static final String TEMP_PREFIX = ".tmp-";
  static final String CONFIG = "config.yaml";
  static final String MODEL = "model.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "state.json";

  /** A checkpoint read back: its folder, config text, tensors and state. */
  public record Loaded(Path folder, String configYaml, Map<String, Tensor> weights, Map<String, String> metadata,
      Map<String, Tensor> optimizer, TrainState state) {}

  private Checkpoint() {}

  /**
   * Writes a checkpoint of {@code state.step()} under {@code checkpoints} and points {@code latest} at it. When
   * writing fails (a full disk), the temporary folder is removed and the exception says so; the previous checkpoint
   * and {@code latest} are untouched.
   */
  public static Path save(Path checkpoints, String configYaml, LanguageModel model, AdamW optimizer,
      TrainState state, int keep) throws IOException {
    Files.createDirectories(checkpoints);
    String name = String.format("step-%06d", state.step());
    Path temp = checkpoints.resolve(TEMP_PREFIX + name + "-" + ProcessHandle.current().pid());
    deleteTree(temp);
    Files.createDirectory(temp);
    try {
      writeFiles(temp, configYaml, model, optimizer, state);
    } catch (IOException e) {
      try {
        deleteTree(temp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
        throw new IOException("checkpoint " + name + " could not be written (" + e.getMessage() + "), and its "
            + "temporary folder " + temp + " could not be removed (" + cleanup.getMessage() + ")", e);
      }
      throw new IOException("checkpoint " + name + " could not be written (" + e.getMessage() + "); its temporary "
          + "folder was removed", e);
    }
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

  private static void writeFiles(Path temp, String configYaml, LanguageModel model, AdamW optimizer,
      TrainState state) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      writeText(temp.resolve(CONFIG), configYaml);
      Map<String, String> metadata = new LinkedHashMap<>();
      metadata.put("format", "fastllm-checkpoint");
      metadata.put("format_version", Integer.toString(FORMAT_VERSION));
      metadata.put("shared", JSON.writeValueAsString(sharingMap(model)));
      Safetensors.write(temp.resolve(MODEL), weights(model), metadata);
      DiskFullForTests.failIfAsked(state.step(), temp.resolve(OPTIMIZER));
      Safetensors.write(temp.resolve(OPTIMIZER), optimizer.state(),
          Map.of("format_version", Integer.toString(FORMAT_VERSION), "steps", Long.toString(optimizer.steps())));
    }
    sleepForTests(state.step());
    writeText(temp.resolve(STATE), JSON.writeValueAsString(state));
    syncDirectory(temp);
  }

  /**
   * The checkpoint folder meant by {@code given}: a checkpoint folder itself, a {@code checkpoints} folder (its
   * {@code latest}), or a run's output folder (its {@code checkpoints/latest}).
   */
  public static Path locate(Path given) {
    if (Files.isRegularFile(given.resolve(STATE))) {
      return given;
    }
    for (Path folder : List.of(given, given.resolve("checkpoints"))) {
      Path latest = folder.resolve(LATEST);
      if (Files.isRegularFile(latest)) {
        String name;
        try {
          name = Files.readString(latest, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          throw new CheckpointException(latest + ": cannot be read (" + e.getMessage() + ")", e);
        }
        if (!name.matches("step-\\d+") || !Files.isDirectory(folder.resolve(name))) {
          throw new CheckpointException(latest + ": names '" + name + "', which is not a checkpoint folder in "
              + folder);
        }
        return folder.resolve(name);
      }
    }
    throw new CheckpointException(given + ": no checkpoint here (expected a checkpoint folder with state.json, or a "
        + "folder with a 'latest' file or a 'checkpoints/latest' file)");
  }

  /**
   * Reads the checkpoint meant by {@code given} (see {@link #locate}) and verifies every file: each problem is a
   * {@link CheckpointException} whose message starts with the file at fault.
   */
  public static Loaded load(Path given) {
    Path folder = locate(given);
    TrainState state = readState(folder.resolve(STATE));
    boolean headerChecksums = state.formatVersion() >= 2;
    String config = readConfig(folder.resolve(CONFIG));
    Safetensors.Contents model = readTensors(folder.resolve(MODEL), headerChecksums);
    Safetensors.Contents optimizer = readTensors(folder.resolve(OPTIMIZER), headerChecksums);
    String steps = optimizer.metadata().get("steps");
    if (steps != null && !steps.equals(Long.toString(state.step()))) {
      throw new CheckpointException(folder.resolve(OPTIMIZER) + ": holds the optimizer of step " + steps + ", but "
          + STATE + " is of step " + state.step() + " (files of different saves)");
    }
    return new Loaded(folder, config, model.tensors(), model.metadata(), optimizer.tensors(), state);
  }

  /** The checkpoint folders next to {@code folder} other than itself, newest first: what a user may resume instead. */
  public static List<Path> others(Path folder) {
    Path parent = folder.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(parent)) {
      return entries.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isDirectory(p)
              && !p.getFileName().equals(folder.getFileName()))
          .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static TrainState readState(Path file) {
    TrainState state;
    try {
      state = JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), TrainState.class);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (JsonProcessingException e) {
      throw new CheckpointException(file + ": not a valid state file (" + e.getOriginalMessage().lines().findFirst()
          .orElse("") + ", line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")",
          e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
    if (state == null) {
      throw new CheckpointException(file + ": empty (the checkpoint is damaged)");
    }
    if (state.formatVersion() < 1 || state.formatVersion() > FORMAT_VERSION) {
      throw new CheckpointException(file + ": checkpoint format version " + state.formatVersion()
          + ", this build reads versions 1 to " + FORMAT_VERSION);
    }
    if (state.step() < 0 || state.microBatches() < 0) {
      throw new CheckpointException(file + ": step " + state.step() + " and micro_batches " + state.microBatches()
          + " must not be negative (the checkpoint is damaged)");
    }
    return state;
  }

  private static String readConfig(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new CheckpointException(file + ": not UTF-8 text (the checkpoint is damaged)", e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private static Safetensors.Contents readTensors(Path file, boolean headerChecksum) {
    try {
      return Safetensors.read(file, headerChecksum);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (IOException e) {
      String message = e.getMessage();
      throw new CheckpointException(message.startsWith(file.toString()) ? message : file + ": " + message, e);
    }
  }

  private static CheckpointException missing(Path file, NoSuchFileException e) {
    return new CheckpointException(file + ": missing (the checkpoint is incomplete)", e);
  }

  /** Copies saved weights into the model; names and shapes must match exactly (else the message lists them). */
  public static void restoreWeights(Loaded loaded, LanguageModel model) {
    Map<String, Tensor> wanted = weights(model);
    checkFits(loaded.folder().resolve(MODEL), loaded.weights(), wanted, "the model");
    copyInto(wanted, loaded.weights());
  }

  /** Copies saved AdamW moments and the step count into {@code optimizer}, after the same check as the weights. */
  public static void restoreOptimizer(Loaded loaded, AdamW optimizer) {
    checkFits(loaded.folder().resolve(OPTIMIZER), loaded.optimizer(), optimizer.state(), "the optimizer of the model");
    optimizer.restore(loaded.optimizer(), loaded.state().step());
  }

  private static void checkFits(Path file, Map<String, Tensor> saved, Map<String, Tensor> wanted, String what) {
    List<String> problems = new ArrayList<>();
    wanted.forEach((name, tensor) -> {
      Tensor s = saved.get(name);
      if (s == null) {
        problems.add("'" + name + "' is missing from the checkpoint");
      } else if (!java.util.Arrays.equals(Shapes.of(s), Shapes.of(tensor))) {
        problems.add("'" + name + "' has shape " + Shapes.text(s) + " in the checkpoint, " + Shapes.text(tensor)
            + " in the model");
      }
    });
    saved.keySet().stream().filter(n -> !wanted.containsKey(n))
        .forEach(n -> problems.add("'" + n + "' is in the checkpoint but not in the model"));
    if (!problems.isEmpty()) {
      throw new CheckpointException(file + ": does not fit " + what + " of the config: " + String.join("; ",
          problems.subList(0, Math.min(5, problems.size())))
          + (problems.size() > 5 ? "; and " + (problems.size() - 5) + " more" : ""));
    }
  }

  private static void copyInto(Map<String, Tensor> targets, Map<String, Tensor> saved) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      targets.forEach((name, tensor) -> tensor.copy_(saved.get(name)));
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

  public static void writeText(Path file, String text) throws IOException {
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
