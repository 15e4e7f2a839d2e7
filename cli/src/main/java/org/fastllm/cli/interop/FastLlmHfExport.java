package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Writes any stack of the built-in kinds, and of plugin kinds that ship Python code, as a {@code fastllm-hf}
 * folder: {@link FastLlmHfConfig}'s {@code config.json}, {@link FastLlmHfPlugins}' Python files, the weights under
 * this tool's own tensor names (a shared block once, adapters as they are), tokenizer files,
 * {@code generation_config.json} and the Python code transformers runs ({@link FastLlmHfCode}).
 *
 * <pre>{@code
 * // given Path checkpoint, Path out
 * FastLlmHfExport.run(checkpoint, out, 5_000_000_000L);
 * }</pre>
 */
final class FastLlmHfExport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private FastLlmHfExport() {}

  /** Returns the lines to print: a summary. */
  static List<String> run(Path given, Path out, long maxShardBytes) throws IOException {
    HfImport.refuseNonEmpty(out);
    boolean weightsHere = Files.isRegularFile(given.resolve(ShardedSafetensors.SINGLE))
        || Files.isRegularFile(given.resolve(ShardedSafetensors.INDEX));
    Path folder = Files.isRegularFile(given.resolve("config.yaml")) && weightsHere ? given : Checkpoint.locate(given);
    String yaml = Files.readString(folder.resolve("config.yaml"), StandardCharsets.UTF_8);
    ConfigLoader loader = ConfigLoader.standard();
    LoadedConfig loaded = loader.load(folder.resolve("config.yaml").toString(), yaml);
    ModelConfig model = loaded.model();
    List<LayerPlan> layers = BlockPattern.expand(model).layers();
    Map<String, String> python = FastLlmHfPlugins.files(layers, loader.kinds());
    ObjectNode config = FastLlmHfConfig.write(model, layers, loader.kinds());
    Map<String, Tensor> ours = ShardedSafetensors.read(folder).tensors();
    Map<String, Tensor> written = new LinkedHashMap<>();
    List<String> missing = new ArrayList<>();
    for (TensorSpec spec : org.fastllm.dsl.count.ModelTensors.of(model, loader.kinds())) {
      Tensor tensor = ours.get(spec.name());
      if (tensor == null) {
        missing.add(spec.name());
      } else {
        written.put(spec.name(), tensor);
      }
    }
    if (!missing.isEmpty()) {
      throw new InteropException(folder + ": tensor" + (missing.size() == 1 ? " '" : "s '")
          + String.join("', '", missing) + "' missing from the weights");
    }
    Files.createDirectories(out);
    List<Path> files = ShardedSafetensors.write(out, written, Map.of("format", "pt"), maxShardBytes);
    Files.writeString(out.resolve("config.json"), JSON.writeValueAsString(config));
    for (Map.Entry<String, String> file : python.entrySet()) {
      Files.writeString(out.resolve(file.getKey()), file.getValue(), StandardCharsets.UTF_8);
    }
    FastLlmHfCode.write(out);
    HfExport.writeCompanions(folder, out);
    return List.of(out + ": " + FastLlmHfConfig.ARCHITECTURE + ", " + layers.size() + " layers, " + written.size()
        + " tensors in " + (files.size() == 1 ? "1 file" : (files.size() - 1) + " shards")
        + ", with its Python code (load with trust_remote_code=True)");
  }
}
