package org.fastllm.modules.checkpoint;

import static org.fastllm.modules.checkpoint.CheckpointFiles.CONFIG;
import static org.fastllm.modules.checkpoint.CheckpointFiles.MODEL;
import static org.fastllm.modules.checkpoint.CheckpointFiles.OPTIMIZER;
import static org.fastllm.modules.checkpoint.CheckpointFiles.STATE;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.stack.LanguageModel;

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
 * <pre>{@code
 * // given Path output, String configYaml, LanguageModel model, AdamW optimizer, TrainState state
 * Checkpoint.save(output.resolve("checkpoints"), configYaml, model, optimizer, state, 3);
 * Checkpoint.Loaded back = Checkpoint.load(output);        // checkpoints/latest, every file verified
 * Checkpoint.restoreWeights(back, model);
 * Checkpoint.restoreOptimizer(back, optimizer);
 * }</pre>
 *
 * <p><b>A save is atomic:</b> files go to a hidden temporary folder, are forced to disk, and the folder is renamed
 * into place before {@code latest} is replaced (also by rename), so a crash at any moment leaves the previous
 * checkpoint whole and {@code latest} pointing at a complete folder. Tests interrupt a save through
 * {@link SaveHook}.
 */
public final class Checkpoint {
  /** 2: safetensors headers carry their own CRC32 (version 1 checkpoints are still read, without that check). */
  public static final int FORMAT_VERSION = 2;
  public static final String LATEST = "latest";
  /** The JSON of {@code state.json} (snake_case keys). */
  static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  /** A checkpoint read back: its folder, config text, tensors and state. */
  public record Loaded(Path folder, String configYaml, Map<String, Tensor> weights, Map<String, String> metadata,
      Map<String, Tensor> optimizer, TrainState state) {}

  private Checkpoint() {}

  /**
   * Writes a checkpoint of {@code state.step()} under {@code checkpoints}, points {@code latest} at it and keeps the
   * newest {@code keep} checkpoints. When writing fails (a full disk), the temporary folder is removed and the
   * exception says so; the previous checkpoint and {@code latest} are untouched.
   */
  public static Path save(Path checkpoints, String configYaml, LanguageModel model, AdamW optimizer,
      TrainState state, int keep) throws IOException {
    try (PointerScope scope = new PointerScope()) {
      return AtomicFolderWriter.save(checkpoints, state.step(), List.of(
          new PendingFile(CONFIG, file -> CheckpointFiles.writeText(file, configYaml)),
          new PendingFile(MODEL, file -> {
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format", "fastllm-checkpoint");
            metadata.put("format_version", Integer.toString(FORMAT_VERSION));
            metadata.put("shared", JSON.writeValueAsString(ModelTensors.sharingMap(model)));
            Safetensors.write(file, ModelTensors.weights(model), metadata);
          }),
          new PendingFile(OPTIMIZER, file -> {
            // In this order in every file: Map.of's order changes from one JVM to the next.
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("format_version", Integer.toString(FORMAT_VERSION));
            metadata.put("steps", Long.toString(optimizer.steps()));
            Safetensors.write(file, optimizer.state(), metadata);
          }),
          new PendingFile(STATE, file -> CheckpointFiles.writeText(file, JSON.writeValueAsString(state)))), keep);
    }
  }

  /**
   * The checkpoint folder meant by {@code given}: a checkpoint folder itself, a {@code checkpoints} folder (its
   * {@code latest}), or a run's output folder (its {@code checkpoints/latest}).
   */
  public static Path locate(Path given) {
    return CheckpointLocator.locate(given);
  }

  /**
   * Reads the checkpoint meant by {@code given} (see {@link #locate}) and verifies every file: each problem is a
   * {@link CheckpointException} whose message starts with the file at fault.
   */
  public static Loaded load(Path given) {
    return CheckpointReader.read(locate(given));
  }

  /** The checkpoint folders next to {@code folder} other than itself, newest first: what a user may resume instead. */
  public static List<Path> others(Path folder) {
    return CheckpointLocator.others(folder);
  }

  /** Copies saved weights into the model; names and shapes must match exactly (else the message lists them). */
  public static void restoreWeights(Loaded loaded, LanguageModel model) {
    Map<String, Tensor> wanted = ModelTensors.weights(model);
    ModelTensors.checkFits(loaded.folder().resolve(MODEL), loaded.weights(), wanted, "the model");
    ModelTensors.copyInto(wanted, loaded.weights());
  }

  /** Copies saved AdamW moments and the step count into {@code optimizer}, after the same check as the weights. */
  public static void restoreOptimizer(Loaded loaded, AdamW optimizer) {
    ModelTensors.checkFits(loaded.folder().resolve(OPTIMIZER), loaded.optimizer(), optimizer.state(),
        "the optimizer of the model");
    optimizer.restore(loaded.optimizer(), loaded.state().step());
  }
}
