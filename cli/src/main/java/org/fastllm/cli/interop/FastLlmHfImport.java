package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Reads a {@code fastllm-hf} folder back into an imported-model folder: its model section as {@code config.yaml},
 * validated as any config is, and every tensor the model names, with the shape it gives, bit for bit; a tensor
 * missing, of another shape or named by nothing is refused by name, and nothing is written.
 *
 * <pre>{@code
 * // given Path hf, Path out, com.fasterxml.jackson.databind.JsonNode configJson
 * FastLlmHfImport.run(hf, out, configJson);
 * }</pre>
 */
final class FastLlmHfImport {
  private FastLlmHfImport() {}

  static String run(Path hf, Path out, JsonNode json) throws IOException {
    ConfigLoader loader = ConfigLoader.standard();
    ObjectNode root = ConfigMapper.json(loader.kinds()).createObjectNode();
    root.set("model", FastLlmHfConfig.modelSection(json));
    boolean tokenizer = Files.isRegularFile(hf.resolve("tokenizer.json"));
    String yaml = ConfigMapper.yaml(loader.kinds()).writeValueAsString(root)
        + (tokenizer ? "data:\n  tokenizer: " + out.toAbsolutePath().resolve("tokenizer.json") + "\n" : "");
    Path configFile = hf.resolve("config.json");
    // The lines and columns of a problem are those of the YAML the model section becomes, which the source says.
    LoadedConfig loaded = loader.load(configFile + " (its model section as YAML)", yaml);
    List<org.fastllm.dsl.pattern.LayerPlan> layers = BlockPattern.expand(loaded.model()).layers();
    List<String> problems = new ArrayList<>(FastLlmHfConfig.disagreements(json,
        FastLlmHfConfig.write(loaded.model(), layers, loader.kinds())).stream().map(p -> configFile + ": " + p)
        .toList());
    Map<String, Tensor> theirs = new LinkedHashMap<>(ShardedSafetensors.read(hf).tensors());
    Map<String, Tensor> ours = new LinkedHashMap<>();
    for (TensorSpec spec : org.fastllm.dsl.count.ModelTensors.of(loaded.model(), loader.kinds())) {
      long[] shape = spec.shape().stream().mapToLong(Long::longValue).toArray();
      Tensor tensor = theirs.remove(spec.name());
      if (tensor == null) {
        problems.add(spec.name() + " is missing");
      } else if (!Arrays.equals(shape, tensor.sizes().vec().get())) {
        problems.add(spec.name() + " has shape " + Arrays.toString(tensor.sizes().vec().get())
            + ", the config asks for " + Arrays.toString(shape));
      } else {
        ours.put(spec.name(), tensor.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).contiguous());
      }
    }
    theirs.keySet().forEach(n -> problems.add(n + " is claimed by nothing (not a tensor of this model)"));
    if (!problems.isEmpty()) {
      throw new InteropException(hf + ": " + String.join("; ", problems));
    }
    HfImport.writeCheckpoint(hf, out, yaml, ours);
    return out + ": " + FastLlmHfConfig.ARCHITECTURE + ", " + layers.size() + " layers, " + ours.size()
        + " tensors" + (tokenizer ? ", tokenizer.json" : "");
  }
}
