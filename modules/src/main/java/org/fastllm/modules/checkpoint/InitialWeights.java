package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The weights a fresh run starts from: those of a checkpoint of this tool (a checkpoint folder, a checkpoints folder
 * or a run folder), or of an imported-model folder holding {@code config.yaml} and {@code model.safetensors} (or its
 * shards with {@value ShardedSafetensors#INDEX}) written as a checkpoint's model file.
 *
 * <pre>{@code
 * // given Path dir, LanguageModel model
 * InitialWeights init = InitialWeights.read(dir);
 * if (init.differences(model).isEmpty()) {
 *   init.copyInto(model);                                         // every tensor
 * }
 * Map<String, List<String>> fresh = init.copyMatching(model);     // or those whose name and shape match
 * }</pre>
 *
 * <p><b>Only the model's weights are taken: no optimizer state, step or data position.</b> Problems reading the
 * folder are {@link CheckpointException}s whose message starts with the file at fault.
 */
public final class InitialWeights {
  private static final String FORMAT = "fastllm-checkpoint";

  private final Path folder;
  private final String configYaml;
  private final Map<String, Tensor> tensors;

  private InitialWeights(Path folder, String configYaml, Map<String, Tensor> tensors) {
    this.folder = folder;
    this.configYaml = configYaml;
    this.tensors = tensors;
  }

  /** Reads the weights and config meant by {@code given}, verifying the files as a resume would. */
  public static InitialWeights read(Path given) {
    Path folder = isCheckpoint(given) ? CheckpointLocator.locate(given) : given;
    Path config = folder.resolve(CheckpointFiles.CONFIG);
    if (!Files.isRegularFile(config) || !(Files.isRegularFile(folder.resolve(ShardedSafetensors.SINGLE))
        || Files.isRegularFile(folder.resolve(ShardedSafetensors.INDEX)))) {
      throw new CheckpointException(given + ": no model here (expected a checkpoint folder, a run folder, or an "
          + "imported-model folder with config.yaml and model.safetensors or " + ShardedSafetensors.INDEX
          + "; convert a Hugging Face folder with 'fastllm-cli import' first)");
    }
    Safetensors.Contents contents;
    String yaml;
    try {
      yaml = Files.readString(config, StandardCharsets.UTF_8);
      contents = ShardedSafetensors.read(folder);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(e.getFile() + ": missing" + (e.getReason() == null ? "" : " (" + e.getReason()
          + ")"), e);
    } catch (IOException e) {
      String message = e.getMessage();
      throw new CheckpointException(message.startsWith(folder.toString()) ? message : folder + ": " + message, e);
    }
    String format = contents.metadata().get("format");
    if (format != null && !format.equals(FORMAT)) {
      throw new CheckpointException(folder + ": weights of format '" + format + "', not '" + FORMAT + "' (convert a "
          + "Hugging Face folder with 'fastllm-cli import' first)");
    }
    return new InitialWeights(folder, yaml, contents.tensors());
  }

  private static boolean isCheckpoint(Path given) {
    return Files.isRegularFile(given.resolve(CheckpointFiles.STATE)) || Files.isRegularFile(given.resolve(
        Checkpoint.LATEST)) || Files.isRegularFile(given.resolve("checkpoints").resolve(Checkpoint.LATEST));
  }

  /** The folder the weights were read from (for a run folder: its latest checkpoint). */
  public Path folder() {
    return folder;
  }

  /** The run config saved beside the weights. */
  public String configYaml() {
    return configYaml;
  }

  /** Each tensor of the model that the weights lack or hold in another shape, then each they hold beyond it. */
  public List<String> differences(LanguageModel model) {
    return ModelTensors.differences(tensors, ModelTensors.weights(model), folder.toString());
  }

  /** Copies every tensor; the caller has checked that {@link #differences} is empty. */
  public void copyInto(LanguageModel model) {
    ModelTensors.copyInto(ModelTensors.weights(model), tensors);
  }

  /**
   * Copies each tensor whose name and shape match; returns the model's other tensors (left as initialised), grouped
   * by layer ({@code layers.3}) or by the first part of their name outside the layers ({@code embeddings}).
   */
  public Map<String, List<String>> copyMatching(LanguageModel model) {
    Map<String, Tensor> matching = new LinkedHashMap<>();
    Map<String, List<String>> fresh = new LinkedHashMap<>();
    ModelTensors.weights(model).forEach((name, tensor) -> {
      Tensor saved = tensors.get(name);
      if (saved != null && Arrays.equals(Shapes.of(saved), Shapes.of(tensor))) {
        matching.put(name, tensor);
      } else {
        fresh.computeIfAbsent(group(name), g -> new ArrayList<>()).add(name);
      }
    });
    ModelTensors.copyInto(matching, tensors);
    return fresh;
  }

  /** The names of the weights that no tensor of the model takes (by name and shape). */
  public List<String> unused(LanguageModel model) {
    Map<String, Tensor> wanted = ModelTensors.weights(model);
    return tensors.entrySet().stream().filter(e -> {
      Tensor t = wanted.get(e.getKey());
      return t == null || !Arrays.equals(Shapes.of(t), Shapes.of(e.getValue()));
    }).map(Map.Entry::getKey).toList();
  }

  private static String group(String name) {
    String[] parts = name.split("\\.");
    return parts.length > 2 && parts[1].matches("\\d+") ? parts[0] + "." + parts[1] : parts[0];
  }
}
