package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Writes a checkpoint, run folder or imported-model folder as a Hugging Face folder of one format; a stack the format
 * cannot hold is refused naming the block and key, and which format would take it.
 *
 * <pre>{@code
 * // given Path checkpoint, Path out
 * HfExport.run(checkpoint, HfFormat.LLAMA, out, 5_000_000_000L, false, null);  // adapters, if any: out/adapter
 * }</pre>
 */
final class HfExport {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  /** Where the PEFT adapter folder goes without {@code --adapter-dir}: inside the exported base. */
  static final String ADAPTER = "adapter";

  private HfExport() {}

  /** Returns the lines to print: warnings, then a summary. */
  static List<String> run(Path given, HfFormat format, Path out, long maxShardBytes, boolean mergeLora,
      Path adapterDir) throws IOException {
    HfImport.refuseNonEmpty(out);
    if (adapterDir != null) {
      HfImport.refuseNonEmpty(adapterDir);
    }
    // An imported-model or checkpoint folder holds its weights; a run folder names its latest checkpoint.
    boolean weightsHere = Files.isRegularFile(given.resolve(ShardedSafetensors.SINGLE))
        || Files.isRegularFile(given.resolve(ShardedSafetensors.INDEX));
    Path folder = Files.isRegularFile(given.resolve("config.yaml")) && weightsHere ? given : Checkpoint.locate(given);
    String yaml = Files.readString(folder.resolve("config.yaml"), StandardCharsets.UTF_8);
    LoadedConfig loaded = ConfigLoader.standard().load(folder.resolve("config.yaml").toString(), yaml);
    ModelConfig model = loaded.model();
    List<String> lines = new ArrayList<>();
    ExportFit.check(folder, model, format);
    Map<String, Tensor> ours = ShardedSafetensors.read(folder).tensors();
    Map<String, Tensor> theirs = new LinkedHashMap<>();
    Map<String, Integer> firstUse = new LinkedHashMap<>();
    List<LayerPlan> layers = BlockPattern.expand(model).layers();
    for (LayerPlan layer : layers) {
      if (layer.shared() && firstUse.putIfAbsent(layer.blockName(), layer.index()) != null) {
        lines.add("warning: layer " + layer.index() + " shares block '" + layer.blockName() + "' with layer "
            + firstUse.get(layer.blockName()) + "; written as a copy at every use");
      }
    }
    List<LoraMerge.Adapted> adapted = LoraMerge.adapted(layers, firstUse, ours);
    if (adapterDir != null && (mergeLora || adapted.isEmpty())) {
      throw new InteropException("--adapter-dir: nothing goes there — " + (mergeLora
          ? "--merge-lora folds the adapters into the weights" : folder + " has no LoRA adapters"));
    }
    Map<String, Tensor> merged = mergeLora ? LoraMerge.merged(adapted) : Map.of();
    BlockConfig first = model.blocks().get(layers.get(0).blockName());
    boolean qkvBiases = format == HfFormat.QWEN2;
    boolean tied = Boolean.TRUE.equals(model.tiedEmbeddingWeight());
    java.util.Set<String> layout = new java.util.HashSet<>();
    org.fastllm.dsl.count.ModelTensors.of(model, ConfigLoader.standard().kinds()).forEach(t -> layout.add(t.name()));
    List<TensorRule> rules = TensorRule.forModel(format, layers.size(), tied, qkvBiases);
    for (TensorRule rule : rules) {
      if (!rule.inLayout(format, layout)) {
        continue;
      }
      Tensor tensor = merged.containsKey(rule.ours()) ? merged.get(rule.ours())
          : ours.get(stored(rule.ours(), layers, firstUse));
      if (tensor == null) {
        throw new InteropException(folder + ": tensor '" + rule.ours() + "' is missing from the weights");
      }
      long rows = tensor.size(0) / rule.theirs().size();
      for (int i = 0; i < rule.theirs().size(); i++) {
        String name = rule.theirs().get(i);
        theirs.put(name.startsWith("lm_head") ? name : format.prefix + name,
            rule.theirs().size() == 1 ? tensor : tensor.narrow(0, i * rows, rows).contiguous());
      }
    }
    if (!mergeLora) {
      PeftAdapter.refuseUnmapped(format, rules, adapted);
    }
    Files.createDirectories(out);
    List<Path> files = ShardedSafetensors.write(out, theirs, Map.of("format", "pt"), maxShardBytes);
    Files.writeString(out.resolve("config.json"), JSON.writeValueAsString(HfConfigWriter.write(format, model, first)));
    writeCompanions(folder, out);
    if (!mergeLora && !adapted.isEmpty()) {
      Path adapter = adapterDir != null ? adapterDir : out.resolve(ADAPTER);
      lines.add(PeftAdapter.write(adapter, out, format, rules, adapted, layers.size()));
    }
    lines.add(out + ": " + format.architecture + ", " + layers.size() + " layers, " + theirs.size() + " tensors in "
        + (files.size() == 1 ? "1 file" : (files.size() - 1) + " shards"));
    return lines;
  }

  /** The name a layer's tensor is stored under: a shared block's at its first use. */
  private static String stored(String name, List<LayerPlan> layers, Map<String, Integer> firstUse) {
    if (!name.startsWith("layers.")) {
      return name;
    }
    int dot = name.indexOf('.', 7);
    int index = Integer.parseInt(name.substring(7, dot));
    LayerPlan layer = layers.get(index);
    return layer.shared() ? "layers." + firstUse.get(layer.blockName()) + name.substring(dot) : name;
  }

  static boolean isRms(ModelConfig model) {
    return model.normalization().type() == NormType.RMS_NORM;
  }

  static boolean isMamba1(BlockConfig block) {
    return block instanceof SsmBlockConfig ssm && ssm.variant() == SsmVariant.MAMBA1;
  }

  static boolean isMamba2Standard(BlockConfig block) {
    return block instanceof SsmBlockConfig ssm && ssm.variant() == SsmVariant.MAMBA2_STANDARD;
  }

  static boolean isTransformer(BlockConfig block) {
    return block instanceof TransformerBlockConfig;
  }

  /**
   * The files beside the weights: the tokenizer files of {@code folder}, and its own {@code generation_config.json}
   * (an imported model's bos/eos ids), or a minimal one where it has none.
   */
  static void writeCompanions(Path folder, Path out) throws IOException {
    if (!Files.isRegularFile(folder.resolve("generation_config.json"))) {
      ObjectNode generation = JSON.createObjectNode();
      generation.put("_from_model_config", true);
      Files.writeString(out.resolve("generation_config.json"), JSON.writeValueAsString(generation));
    }
    for (String name : HfImport.TOKENIZER_FILES) {
      if (Files.isRegularFile(folder.resolve(name))) {
        Files.copy(folder.resolve(name), out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }
}
