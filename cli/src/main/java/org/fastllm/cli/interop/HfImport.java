package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Converts a Hugging Face folder into an imported-model folder: {@code config.yaml}, {@code model.safetensors} written
 * as a checkpoint's model file, and the tokenizer files. Every tensor is claimed by a {@link TensorRule} or refused.
 *
 * <pre>{@code
 * // given Path hf, Path out
 * HfImport.run(hf, out);
 * }</pre>
 */
final class HfImport {
  static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json",
      "special_tokens_map.json", "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json");
  /** Python's json writes Mamba 2's {@code time_step_limit} as {@code [0.0, Infinity]}. */
  private static final ObjectMapper JSON = com.fasterxml.jackson.databind.json.JsonMapper.builder()
      .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  private HfImport() {}

  /** Returns a one-line summary of what was written. */
  static String run(Path hf, Path out) throws IOException {
    refuseNonEmpty(out);
    Path configFile = hf.resolve("config.json");
    if (!Files.isRegularFile(configFile)) {
      throw new InteropException(hf + ": no config.json (expected a Hugging Face model folder)");
    }
    JsonNode json;
    try {
      json = JSON.readTree(configFile.toFile());
    } catch (IOException e) {
      throw new InteropException(configFile + ": not valid JSON (" + e.getMessage() + ")");
    }
    if (FastLlmHfConfig.MODEL_TYPE.equals(json.path("model_type").asText())) {
      return FastLlmHfImport.run(hf, out, json);
    }
    HfConfigReader.Model model = HfConfigReader.read(configFile.toString(), json);
    boolean tokenizer = Files.isRegularFile(hf.resolve("tokenizer.json"));
    // data.tokenizer is read relative to the working directory: the carried copy is named by its absolute path.
    String yaml = model.yaml() + (tokenizer ? "data:\n  tokenizer: " + out.toAbsolutePath().resolve("tokenizer.json") + "\n" : "");
    LoadedConfig loaded = ConfigLoader.standard().load(out.resolve("config.yaml").toString(), yaml);
    Map<String, Tensor> theirs = ShardedSafetensors.read(hf).tensors();
    Map<String, Tensor> ours = convert(hf, model, loaded, theirs);
    writeCheckpoint(hf, out, yaml, ours);
    return out + ": " + model.format().architecture + ", " + model.layers() + " layers, " + ours.size()
        + " tensors" + (tokenizer ? ", tokenizer.json" : "");
  }

  /**
   * The checkpoint an import writes to {@code out}: its {@code config.yaml}, the weights {@code ours} in one file,
   * and the tokenizer files {@code hf} has.
   */
  static void writeCheckpoint(Path hf, Path out, String yaml, Map<String, Tensor> ours) throws IOException {
    Files.createDirectories(out);
    Files.writeString(out.resolve("config.yaml"), yaml, StandardCharsets.UTF_8);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("format", "fastllm-checkpoint");
    metadata.put("format_version", Integer.toString(Checkpoint.FORMAT_VERSION));
    metadata.put("shared", "{}");
    Safetensors.write(out.resolve(ShardedSafetensors.SINGLE), ours, metadata);
    for (String name : TOKENIZER_FILES) {
      if (Files.isRegularFile(hf.resolve(name))) {
        Files.copy(hf.resolve(name), out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  static Map<String, Tensor> convert(Path hf, HfConfigReader.Model model, LoadedConfig loaded,
      Map<String, Tensor> named) {
    String prefix = model.format().prefix;
    Map<String, Tensor> theirs = new LinkedHashMap<>();
    named.forEach((name, t) -> theirs.put(name.startsWith(prefix) ? name.substring(prefix.length()) : name, t));
    List<String> problems = new ArrayList<>();
    if (model.tied() && theirs.containsKey("lm_head.weight")) {
      Tensor head = theirs.remove("lm_head.weight");
      Tensor embedding = theirs.get(model.format().ssm ? "embeddings.weight" : "embed_tokens.weight");
      if (embedding == null || !torch.equal(head, embedding)) {
        problems.add("lm_head.weight differs from the embeddings, but tie_word_embeddings is true");
      }
    }
    Map<String, long[]> wanted = new LinkedHashMap<>();
    for (TensorSpec spec : org.fastllm.dsl.count.ModelTensors.of(loaded.model(), ConfigLoader.standard().kinds())) {
      wanted.put(spec.name(), spec.shape().stream().mapToLong(Long::longValue).toArray());
    }
    Map<String, Tensor> ours = new LinkedHashMap<>();
    for (TensorRule rule : TensorRule.forModel(model.format(), model.layers(), model.tied(), model.qkvBiases())) {
      if (!rule.inLayout(model.format(), wanted.keySet())) {
        continue;
      }
      List<Tensor> parts = new ArrayList<>();
      for (String name : rule.theirs()) {
        Tensor part = theirs.remove(name);
        if (part == null) {
          problems.add(prefix(name, prefix) + " is missing");
        } else {
          parts.add(part.to(torch.ScalarType.Float));
        }
      }
      if (parts.size() != rule.theirs().size()) {
        continue;
      }
      Tensor joined = parts.size() == 1 ? parts.get(0).contiguous()
          : torch.cat(new TensorVector(parts.toArray(Tensor[]::new)), 0);
      long[] shape = wanted.get(rule.ours());
      if (shape == null || !Arrays.equals(shape, joined.sizes().vec().get())) {
        problems.add(String.join(" + ", rule.theirs().stream().map(n -> prefix(n, prefix)).toList()) + " has shape "
            + Arrays.toString(joined.sizes().vec().get()) + ", the config asks for " + Arrays.toString(shape));
        continue;
      }
      ours.put(rule.ours(), joined);
    }
    theirs.keySet().forEach(n -> problems.add(prefix(n, prefix) + " is claimed by nothing (not supported)"));
    if (!problems.isEmpty()) {
      throw new InteropException(hf + ": " + String.join("; ", problems));
    }
    return ours;
  }

  /** Nothing is overwritten: the output folder must be new or empty. */
  static void refuseNonEmpty(Path out) throws IOException {
    if (Files.isDirectory(out)) {
      try (var entries = Files.list(out)) {
        if (entries.findAny().isPresent()) {
          throw new InteropException(out + ": exists and is not empty — give a new or empty folder");
        }
      }
    } else if (Files.exists(out)) {
      throw new InteropException(out + ": is a file — give a new or empty folder");
    }
  }

  private static String prefix(String name, String prefix) {
    return name.startsWith("lm_head") ? name : prefix + name;
  }
}
