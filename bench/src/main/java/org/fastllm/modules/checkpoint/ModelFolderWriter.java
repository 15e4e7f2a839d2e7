package org.fastllm.modules.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fastllm.modules.stack.LanguageModel;

/**
 * A model as a model folder: its config file and its weights written as a checkpoint's model file, which
 * {@link InitialWeights#read}, {@code fastllm-cli export} and the bench runners read like an imported model.
 *
 * <pre class="text">{@code
 * ModelFolderWriter.write(folder, configYaml, model);   // folder/config.yaml, folder/model.safetensors
 * }</pre>
 *
 * <p>(In the bench module, which the docs' example compiler does not see: hence a text block.)
 */
public final class ModelFolderWriter {
  private ModelFolderWriter() {}

  /** Writes {@code configYaml} and the model's weights (each shared tensor once) into {@code folder}. */
  public static void write(Path folder, String configYaml, LanguageModel model) throws IOException {
    Files.createDirectories(folder);
    Files.writeString(folder.resolve(CheckpointFiles.CONFIG), configYaml, StandardCharsets.UTF_8);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "fastllm-checkpoint");
    metadata.put("format_version", Integer.toString(Checkpoint.FORMAT_VERSION));
    metadata.put("shared", new ObjectMapper().writeValueAsString(ModelTensors.sharingMap(model)));
    Safetensors.write(folder.resolve(ShardedSafetensors.SINGLE), ModelTensors.weights(model), metadata);
  }
}
