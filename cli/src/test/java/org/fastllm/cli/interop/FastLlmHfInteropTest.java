package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fastllm.cli.interop.HfInteropTest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export --format fastllm-hf} then {@code import} over mixed stacks: the weights come back bit for bit, the
 * resolved model config equal, a shared block's tensors stored once, {@code layer_types} one per layer.
 */
class FastLlmHfInteropTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The seed's many-blocks example, narrowed and shortened to one pass of its pattern. */
  static final String SEED = """
      model:
        hidden_size: 32
        vocab_size: 64
        max_sequence_length: 64
        blocks:
          alice: {kind: transformer, attention_type: mqa, num_heads: 4, sliding_window: false, ffn_hidden_size: 48}
          bob: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, sliding_window: true,
                window_size: 16, shared_weights: true, ffn_hidden_size: 48}
          claire: {kind: ssm, variant: mamba1, state_size: 4, dt_rank: auto, ffn_hidden_size: 0}
          dave: {kind: ssm, variant: discrete_mamba2, state_size: 16, ffn_hidden_size: 0}
        block_pattern: [alice, bob, claire, dave, bob]
        num_layers: 5
      """;
  static final String MAMBA2 = """
      model:
        hidden_size: 32
        vocab_size: 64
        tied_embedding_weight: false
        blocks:
          m2: {kind: ssm, variant: mamba2, state_size: 8, d_xb: 16, ffn_hidden_size: 0}
          m2s: {kind: ssm, variant: mamba2_standard, d_inner: 64, head_size: 8, n_groups: 2, state_size: 4,
                ffn_hidden_size: 0}
        block_pattern: [m2, m2s]
        num_layers: 4
      """;
  static final String PER_USE = """
      model:
        hidden_size: 32
        vocab_size: 64
        blocks:
          shared_attn: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, shared_weights: true,
                        ffn_hidden_size: 48,
                        lora: {rank: 2, alpha: 4, targets: [query, key_value, dense], per_use: true}}
          mamba: {kind: ssm, variant: mamba2, state_size: 8, ffn_hidden_size: 0}
        block_pattern: [mamba, shared_attn]
        num_layers: 6
      """;

  @TempDir Path dir;

  /** A checkpoint-like folder: the config and random weights under every name the model stores. */
  static Map<String, Tensor> checkpoint(Path folder, String yaml) throws Exception {
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("config.yaml"), yaml);
    LoadedConfig loaded = ConfigLoader.standard().load("config.yaml", yaml);
    Map<String, Tensor> weights = new LinkedHashMap<>();
    for (TensorSpec spec : org.fastllm.dsl.count.ModelTensors.of(loaded.model(), ConfigLoader.standard().kinds())) {
      weights.put(spec.name(), torch.randn(spec.shape().stream().mapToLong(Long::longValue).toArray()));
    }
    Safetensors.write(folder.resolve(ShardedSafetensors.SINGLE), weights, Map.of("format", "fastllm-checkpoint"));
    return weights;
  }

  private static LoadedConfig load(Path yaml) throws Exception {
    return ConfigLoader.standard().load(yaml.toString(), Files.readString(yaml));
  }

  /** Exports, imports back, and checks weights and config; returns the exported config.json. */
  private JsonNode roundTrip(String yaml, String... exportOptions) throws Exception {
    Map<String, Tensor> weights = checkpoint(dir.resolve("ckpt"), yaml);
    List<String> args = new ArrayList<>(List.of("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf",
        "-o", dir.resolve("hf").toString()));
    args.addAll(List.of(exportOptions));
    HfInteropTest.Result exported = cli(args.toArray(String[]::new));
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    Map<String, Tensor> stored = ShardedSafetensors.read(dir.resolve("hf")).tensors();
    assertThat(stored).hasSameSizeAs(weights);
    HfInteropTest.Result imported = cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("back").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    Map<String, Tensor> back = Safetensors.read(dir.resolve("back").resolve(ShardedSafetensors.SINGLE)).tensors();
    assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(weights.keySet());
    weights.forEach((name, t) -> assertThat(torch.equal(t, back.get(name))).as(name).isTrue());
    assertThat(load(dir.resolve("back/config.yaml")).model()).isEqualTo(load(dir.resolve("ckpt/config.yaml")).model());
    assertThat(dir.resolve("hf/generation_config.json")).exists();
    return JSON.readTree(dir.resolve("hf/config.json").toFile());
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }

  @Test
  void seedStack_roundTripsExactly_withTheSharedBlockStoredOnce() throws Exception {
    JsonNode config = roundTrip(SEED);
    assertThat(texts(config.get("layer_types"))).containsExactly("full_attention", "sliding_attention",
        "linear_attention", "linear_attention", "sliding_attention");
    assertThat(config.get("model_type").asText()).isEqualTo("fastllm_hybrid");
    assertThat(texts(config.get("architectures"))).containsExactly("FastLLMForCausalLM");
    assertThat(config.get("auto_map").get("AutoModelForCausalLM").asText())
        .isEqualTo("modeling_fastllm.FastLLMForCausalLM");
    assertThat(config.get("auto_map").get("AutoConfig").asText()).isEqualTo("configuration_fastllm.FastLLMConfig");
    assertThat(config.get("num_hidden_layers").asInt()).isEqualTo(5);
    assertThat(config.get("num_layers").asInt()).isEqualTo(5);
    assertThat(config.get("hidden_size").asInt()).isEqualTo(32);
    assertThat(config.get("vocab_size").asInt()).isEqualTo(64);
    assertThat(texts(config.get("block_pattern"))).containsExactly("alice", "bob", "claire", "dave", "bob");
    assertThat(config.get("blocks").get("bob").get("window_size").asInt()).isEqualTo(16);
    // bob's second use (layer 4) stores nothing of its own: its weights are layer 1's.
    Map<String, Tensor> stored = ShardedSafetensors.read(dir.resolve("hf")).tensors();
    assertThat(stored.keySet()).noneMatch(n -> n.startsWith("layers.4.")).anyMatch(n -> n.startsWith("layers.1."));
    assertThat(Safetensors.read(dir.resolve("hf/model.safetensors")).metadata()).containsEntry("format", "pt");
  }

  @Test
  void mamba2AndMamba2Standard_roundTripExactly_shardedToo() throws Exception {
    JsonNode config = roundTrip(MAMBA2, "--max-shard-bytes", "20000");
    assertThat(texts(config.get("layer_types"))).containsOnly("linear_attention").hasSize(4);
    assertThat(config.get("blocks").get("m2").get("d_xb").asInt()).isEqualTo(16);
    assertThat(config.get("blocks").get("m2s").get("variant").asText()).isEqualTo("mamba2_standard");
    assertThat(config.get("tie_word_embeddings").asBoolean()).isFalse();
    assertThat(dir.resolve("hf").resolve(ShardedSafetensors.INDEX)).exists();
  }

  @Test
  void perUseLoraOnASharedBlock_keepsOneAdapterSetPerUseAndOneBase() throws Exception {
    JsonNode config = roundTrip(PER_USE);
    assertThat(texts(config.get("layer_types"))).containsExactly("linear_attention", "full_attention",
        "linear_attention", "full_attention", "linear_attention", "full_attention");
    Map<String, Tensor> stored = ShardedSafetensors.read(dir.resolve("hf")).tensors();
    assertThat(stored.keySet()).noneMatch(n -> n.startsWith("layers.3.") || n.startsWith("layers.5."))
        .anyMatch(n -> n.startsWith("adapters.1.")).anyMatch(n -> n.startsWith("adapters.3."))
        .anyMatch(n -> n.startsWith("adapters.5."));
  }

  private Path exported(String yaml) throws Exception {
    checkpoint(dir.resolve("ckpt"), yaml);
    assertThat(cli("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf", "-o",
        dir.resolve("hf").toString()).exit()).isEqualTo(Main.OK);
    return dir.resolve("hf");
  }

  @Test
  void import_ofAFolderWithATensorMissing_isRefusedNamingIt() throws Exception {
    Path hf = exported(SEED);
    Map<String, Tensor> tensors = new LinkedHashMap<>(ShardedSafetensors.read(hf).tensors());
    String name = tensors.keySet().stream().filter(n -> n.startsWith("layers.3.")).findFirst().orElseThrow();
    tensors.remove(name);
    tensors.put("layers.4.extra.weight", torch.zeros(2));
    Files.delete(hf.resolve(ShardedSafetensors.SINGLE));
    Safetensors.write(hf.resolve(ShardedSafetensors.SINGLE), tensors, Map.of("format", "pt"));
    HfInteropTest.Result r = cli("import", hf.toString(), "-o", dir.resolve("back").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains(name + " is missing", "layers.4.extra.weight is claimed by nothing");
    assertThat(dir.resolve("back")).doesNotExist();
  }

  @Test
  void import_ofAFolderWithATensorOfAnotherShape_isRefusedNamingIt() throws Exception {
    Path hf = exported(MAMBA2);
    Map<String, Tensor> tensors = new LinkedHashMap<>(ShardedSafetensors.read(hf).tensors());
    String name = tensors.keySet().iterator().next();
    tensors.put(name, torch.zeros(3, 3));
    Files.delete(hf.resolve(ShardedSafetensors.SINGLE));
    Safetensors.write(hf.resolve(ShardedSafetensors.SINGLE), tensors, Map.of("format", "pt"));
    HfInteropTest.Result r = cli("import", hf.toString(), "-o", dir.resolve("back").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains(name + " has shape [3, 3], the config asks for");
  }

  /** The import of the seed stack's export with {@code key} set to {@code value} in its config.json. */
  private HfInteropTest.Result importWithKey(String key, com.fasterxml.jackson.databind.JsonNode value)
      throws Exception {
    Path hf = exported(SEED);
    com.fasterxml.jackson.databind.node.ObjectNode config =
        (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(hf.resolve("config.json").toFile());
    config.set(key, value);
    Files.writeString(hf.resolve("config.json"), JSON.writeValueAsString(config));
    return cli("import", hf.toString(), "-o", dir.resolve("back").toString());
  }

  @Test
  void import_ofAConfigWhoseLayerTypesDisagree_isRefusedNamingTheKey() throws Exception {
    HfInteropTest.Result r = importWithKey("num_hidden_layers", JSON.getNodeFactory().numberNode(7));
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("num_hidden_layers: 7 — the model section gives 5");
  }

  @Test
  void import_ofAConfigWithAKeyTheModelSectionDoesNotHave_isRefusedNamingIt() throws Exception {
    HfInteropTest.Result r = importWithKey("rope_theta", JSON.getNodeFactory().numberNode(10000.0));
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("config.json (its model section as YAML)",
        "model.rope_theta: unknown key 'rope_theta' (allowed: block_pattern, blocks, ");
  }

  /**
   * What transformers 5's {@code save_pretrained} of the loaded model writes: the keys sorted, {@code dtype} for
   * {@code torch_dtype}, its own version, and the attributes the config class or the user set ({@code use_cache},
   * the special token ids, labels, output flags).
   */
  @Test
  void import_ofAConfigSavedByTransformers_readsPastTheKeysItAdds() throws Exception {
    Map<String, Tensor> weights = checkpoint(dir.resolve("ckpt"), SEED);
    assertThat(cli("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf", "-o",
        dir.resolve("hf").toString()).exit()).isEqualTo(Main.OK);
    Path hf = dir.resolve("hf");
    com.fasterxml.jackson.databind.node.ObjectNode config =
        (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(hf.resolve("config.json").toFile());
    config.remove("torch_dtype");
    config.put("dtype", "bfloat16");
    config.put("transformers_version", "5.0.0");
    config.put("use_cache", true);
    config.put("bos_token_id", 1);
    config.put("eos_token_id", 2);
    config.putNull("pad_token_id");
    config.put("output_attentions", true);
    config.put("output_hidden_states", true);
    config.put("return_dict", false);
    config.put("chunk_size_feed_forward", 0);
    config.put("is_encoder_decoder", false);
    config.putObject("id2label").put("0", "LABEL_0");
    config.putObject("label2id").put("LABEL_0", 0);
    config.put("problem_type", "single_label_classification");
    com.fasterxml.jackson.databind.node.ObjectNode sorted = JSON.createObjectNode();
    java.util.SortedSet<String> keys = new java.util.TreeSet<>();
    config.fieldNames().forEachRemaining(keys::add);
    keys.forEach(k -> sorted.set(k, config.get(k)));
    Files.writeString(hf.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(sorted));
    HfInteropTest.Result r = cli("import", hf.toString(), "-o", dir.resolve("back").toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.OK);
    assertThat(load(dir.resolve("back/config.yaml")).model()).isEqualTo(load(dir.resolve("ckpt/config.yaml")).model());
    Map<String, Tensor> back = Safetensors.read(dir.resolve("back").resolve(ShardedSafetensors.SINGLE)).tensors();
    weights.forEach((name, t) -> assertThat(torch.equal(t, back.get(name))).as(name).isTrue());
  }

  @Test
  void export_writesThePythonCodeOfTheJar_andAnEmptyPluginTable() throws Exception {
    roundTrip(SEED);
    for (String name : List.of("configuration_fastllm.py", "modeling_fastllm.py")) {
      String written = Files.readString(dir.resolve("hf").resolve(name));
      assertThat(written).as(name).isNotBlank().isEqualTo(FastLlmHfCode.shipped(name));
    }
    assertThat(Files.readString(dir.resolve("hf/modeling_fastllm.py")))
        .contains("class FastLLMForCausalLM(", "from .fastllm_plugins import MIXERS");
    assertThat(Files.readString(dir.resolve("hf/configuration_fastllm.py")))
        .contains("class FastLLMConfig(", "model_type = \"fastllm_hybrid\"");
    assertThat(dir.resolve("hf/fastllm_plugins.py")).hasContent("MIXERS = {}");
  }

  @Test
  void export_carriesTheTokenizerFilesBothWays() throws Exception {
    checkpoint(dir.resolve("ckpt"), SEED);
    Files.writeString(dir.resolve("ckpt/tokenizer_config.json"), "{\"model_max_length\": 64}");
    assertThat(cli("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf", "-o",
        dir.resolve("hf").toString()).exit()).isEqualTo(Main.OK);
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("back").toString()).exit())
        .isEqualTo(Main.OK);
    assertThat(dir.resolve("back/tokenizer_config.json")).hasSameTextualContentAs(
        dir.resolve("ckpt/tokenizer_config.json"));
  }

  @Test
  void export_withMergeLora_isRefused() throws Exception {
    checkpoint(dir.resolve("ckpt"), PER_USE);
    HfInteropTest.Result r = cli("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf", "--merge-lora",
        "-o", dir.resolve("hf").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("--merge-lora: not with --format fastllm-hf");
  }
}
