package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfInteropTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int H = 16;
  private static final int V = 256;

  @TempDir
  Path dir;

  record Result(int exit, String out, String err) {}

  static Result cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(exit, out.toString(), err.toString());
  }

  static Tensor random(long... shape) {
    return torch.randn(shape);
  }

  static ObjectNode llamaConfig() {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add("LlamaForCausalLM");
    c.put("model_type", "llama");
    c.put("vocab_size", V);
    c.put("hidden_size", H);
    c.put("intermediate_size", 24);
    c.put("num_hidden_layers", 2);
    c.put("num_attention_heads", 4);
    c.put("num_key_value_heads", 2);
    c.put("max_position_embeddings", 64);
    c.put("rope_theta", 500000.0);
    c.put("torch_dtype", "bfloat16");
    return c;
  }

  static Map<String, Tensor> llamaTensors(String prefix, boolean head) {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put(prefix + "embed_tokens.weight", random(V, H));
    for (int i = 0; i < 2; i++) {
      String l = prefix + "layers." + i + ".";
      t.put(l + "input_layernorm.weight", random(H));
      t.put(l + "self_attn.q_proj.weight", random(H, H));
      t.put(l + "self_attn.k_proj.weight", random(8, H));
      t.put(l + "self_attn.v_proj.weight", random(8, H));
      t.put(l + "self_attn.o_proj.weight", random(H, H));
      t.put(l + "post_attention_layernorm.weight", random(H));
      t.put(l + "mlp.gate_proj.weight", random(24, H));
      t.put(l + "mlp.up_proj.weight", random(24, H));
      t.put(l + "mlp.down_proj.weight", random(H, 24));
    }
    t.put(prefix + "norm.weight", random(H));
    if (head) {
      t.put("lm_head.weight", random(V, H));
    }
    return t;
  }

  static Map<String, Tensor> mambaTensors() {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("backbone.embeddings.weight", random(V, H));
    for (int i = 0; i < 2; i++) {
      String l = "backbone.layers." + i + ".";
      t.put(l + "norm.weight", random(H));
      t.put(l + "mixer.in_proj.weight", random(64, H));
      t.put(l + "mixer.conv1d.weight", random(32, 1, 4));
      t.put(l + "mixer.conv1d.bias", random(32));
      t.put(l + "mixer.x_proj.weight", random(1 + 2 * 8, 32));
      t.put(l + "mixer.dt_proj.weight", random(32, 1));
      t.put(l + "mixer.dt_proj.bias", random(32));
      t.put(l + "mixer.A_log", random(32, 8));
      t.put(l + "mixer.D", random(32));
      t.put(l + "mixer.out_proj.weight", random(H, 32));
    }
    t.put("backbone.norm_f.weight", random(H));
    return t;
  }

  private Path hfFolder(String name, ObjectNode config, Map<String, Tensor> tensors) throws Exception {
    Path folder = dir.resolve(name);
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("config.json"), JSON.writeValueAsString(config));
    Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    return folder;
  }

  private static void assertSameTensors(Map<String, Tensor> a, Map<String, Tensor> b) {
    assertThat(b.keySet()).containsExactlyInAnyOrderElementsOf(a.keySet());
    a.forEach((name, t) -> assertThat(torch.equal(t, b.get(name))).as(name).isTrue());
  }

  @Test
  void llama_importThenExport_givesTheSameTensorsBitForBit() throws Exception {
    Map<String, Tensor> tensors = llamaTensors("model.", true);
    Path hf = hfFolder("hf", llamaConfig(), tensors);
    Files.writeString(hf.resolve("tokenizer_config.json"), "{\"model_max_length\": 64}");
    Files.writeString(hf.resolve("generation_config.json"), "{\"bos_token_id\": 1, \"eos_token_id\": 2}");
    Result imported = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(imported.err()).isEmpty();
    assertThat(imported.exit()).isEqualTo(Main.OK);
    assertThat(Files.readString(dir.resolve("imp/config.yaml"))).contains("theta: 500000.0", "head_groups: 2",
        "tied_embedding_weight: false");
    Result exported = cli("export", dir.resolve("imp").toString(), "--format", "llama", "-o",
        dir.resolve("out").toString());
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    assertSameTensors(tensors, ShardedSafetensors.read(dir.resolve("out")).tensors());
    assertThat(JSON.readTree(dir.resolve("out/config.json").toFile()).get("num_key_value_heads").asInt()).isEqualTo(2);
    assertThat(dir.resolve("out/tokenizer_config.json")).hasSameTextualContentAs(hf.resolve("tokenizer_config.json"));
    assertThat(dir.resolve("out/generation_config.json")).hasSameTextualContentAs(hf.resolve("generation_config.json"));
  }

  @Test
  void llama_withoutPrefixAndTiedThroughRopeParameters_imports() throws Exception {
    ObjectNode config = llamaConfig();
    config.put("tie_word_embeddings", true);
    config.remove("rope_theta");
    config.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 1234.0);
    Path hf = hfFolder("hf", config, llamaTensors("", false));
    Result imported = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    assertThat(Files.readString(dir.resolve("imp/config.yaml"))).contains("theta: 1234.0",
        "tied_embedding_weight: true");
    assertThat(Safetensors.read(dir.resolve("imp/model.safetensors")).tensors()).doesNotContainKey("output.weight");
  }

  private ObjectNode qwen2Config() {
    ObjectNode c = llamaConfig();
    c.putArray("architectures").add("Qwen2ForCausalLM");
    c.put("model_type", "qwen2");
    c.remove("rope_theta");
    c.put("use_sliding_window", false);
    c.put("sliding_window", 4096);
    c.put("max_window_layers", 2);
    c.put("attention_dropout", 0.0);
    return c;
  }

  private Map<String, Tensor> qwen2Tensors() {
    Map<String, Tensor> t = llamaTensors("model.", true);
    for (int i = 0; i < 2; i++) {
      String l = "model.layers." + i + ".self_attn.";
      t.put(l + "q_proj.bias", random(H));
      t.put(l + "k_proj.bias", random(8));
      t.put(l + "v_proj.bias", random(8));
    }
    return t;
  }

  @Test
  void qwen2_importThenExport_givesTheSameTensorsWithTheQkvBiasesAndItsOwnDefaults() throws Exception {
    Map<String, Tensor> tensors = qwen2Tensors();
    Path hf = hfFolder("hf", qwen2Config(), tensors);
    Result imported = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    assertThat(Files.readString(dir.resolve("imp/config.yaml"))).contains("qkv_biases: true",
        "add_linear_biases: false", "theta: 10000.0", "tied_embedding_weight: false");
    assertThat(Safetensors.read(dir.resolve("imp/model.safetensors")).tensors()).containsKeys(
        "layers.0.mixer.query.bias", "layers.1.mixer.key_value.bias").doesNotContainKey("layers.0.mixer.dense.bias");
    Result exported = cli("export", dir.resolve("imp").toString(), "--format", "qwen2", "-o",
        dir.resolve("out").toString());
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    assertSameTensors(tensors, ShardedSafetensors.read(dir.resolve("out")).tensors());
    var json = JSON.readTree(dir.resolve("out/config.json").toFile());
    assertThat(json.get("architectures").get(0).asText()).isEqualTo("Qwen2ForCausalLM");
    assertThat(json.get("use_sliding_window").asBoolean()).isFalse();
    assertThat(json.get("tie_word_embeddings").asBoolean()).isFalse();
    assertThat(json.get("rope_parameters").get("rope_theta").asDouble()).isEqualTo(10000.0);
    assertThat(json.get("layer_types").toString()).isEqualTo("[\"full_attention\",\"full_attention\"]");
    Result again = cli("import", dir.resolve("out").toString(), "-o", dir.resolve("again").toString());
    assertThat(again.exit()).as(again.err()).isEqualTo(Main.OK);
    assertThat(Files.readString(dir.resolve("again/config.yaml")))
        .isEqualTo(Files.readString(dir.resolve("imp/config.yaml")).replace(dir.resolve("imp").toString(),
            dir.resolve("again").toString()));
  }

  @Test
  void qwen2_exportAsLlamaAndLlamaAsQwen2_areRefusedNamingTheBiases() throws Exception {
    hfFolder("qwen", qwen2Config(), qwen2Tensors());
    hfFolder("llama", llamaConfig(), llamaTensors("model.", true));
    assertThat(cli("import", dir.resolve("qwen").toString(), "-o", dir.resolve("q").toString()).exit()).isZero();
    assertThat(cli("import", dir.resolve("llama").toString(), "-o", dir.resolve("l").toString()).exit()).isZero();
    Result asLlama = cli("export", dir.resolve("q").toString(), "--format", "llama", "-o",
        dir.resolve("o1").toString());
    assertThat(asLlama.exit()).isEqualTo(Main.INVALID);
    assertThat(asLlama.err()).contains("model.blocks.attention.qkv_biases: true — --format qwen2 takes it");
    Result asQwen = cli("export", dir.resolve("l").toString(), "--format", "qwen2", "-o", dir.resolve("o2").toString());
    assertThat(asQwen.exit()).isEqualTo(Main.INVALID);
    assertThat(asQwen.err()).contains("model.blocks.attention.qkv_biases: false — qwen2 has q/k/v biases; --format "
        + "llama takes a stack without them");
  }

  @Test
  void qwen2_import_refusesSlidingLayersAndMissingBiases() throws Exception {
    ObjectNode sliding = qwen2Config();
    sliding.put("use_sliding_window", true);
    sliding.putArray("layer_types").add("full_attention").add("sliding_attention");
    hfFolder("sliding", sliding, qwen2Tensors());
    Result r = cli("import", dir.resolve("sliding").toString(), "-o", dir.resolve("imp").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("use_sliding_window: true is not supported — allowed: false",
        "layer_types: [\"full_attention\",\"sliding_attention\"] is not supported — allowed: full_attention at each "
            + "of the 2 layers");
    Map<String, Tensor> noBias = qwen2Tensors();
    noBias.remove("model.layers.1.self_attn.v_proj.bias");
    hfFolder("nobias", qwen2Config(), noBias);
    Result m = cli("import", dir.resolve("nobias").toString(), "-o", dir.resolve("imp2").toString());
    assertThat(m.exit()).isEqualTo(Main.INVALID);
    assertThat(m.err()).contains("model.layers.1.self_attn.v_proj.bias is missing");
  }

  @Test
  void mamba_importThenExport_givesTheSameTensorsConvBiasIncluded() throws Exception {
    ObjectNode config = JSON.createObjectNode();
    config.put("model_type", "mamba");
    config.put("vocab_size", V);
    config.put("hidden_size", H);
    config.put("state_size", 8);
    config.put("num_hidden_layers", 2);
    config.put("intermediate_size", 32);
    config.put("time_step_rank", 1);
    Map<String, Tensor> tensors = mambaTensors();
    Path hf = hfFolder("hf", config, tensors);
    Result imported = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    Result exported = cli("export", dir.resolve("imp").toString(), "--format", "mamba", "-o",
        dir.resolve("out").toString());
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    assertSameTensors(tensors, ShardedSafetensors.read(dir.resolve("out")).tensors());
  }

  @Test
  void import_refusesUnknownKeysRopeScalingAndUnclaimedTensors() throws Exception {
    ObjectNode config = llamaConfig();
    config.put("num_experts", 8);
    config.putObject("rope_scaling").put("rope_type", "yarn").put("factor", 4.0);
    Map<String, Tensor> tensors = llamaTensors("model.", true);
    Path hf = hfFolder("hf", config, tensors);
    Result r = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("rope_scaling.rope_type 'yarn' is not supported", "rope key 'factor'",
        "keys nothing here reads: num_experts");
    assertThat(dir.resolve("imp")).doesNotExist();

    tensors.put("model.layers.0.self_attn.q_norm.weight", random(4));
    tensors.remove("model.layers.1.mlp.up_proj.weight");
    Path extra = hfFolder("extra", llamaConfig(), tensors);
    Result e = cli("import", extra.toString(), "-o", dir.resolve("imp2").toString());
    assertThat(e.exit()).isEqualTo(Main.INVALID);
    assertThat(e.err()).contains("model.layers.0.self_attn.q_norm.weight is claimed by nothing",
        "model.layers.1.mlp.up_proj.weight is missing");
  }

  @Test
  void export_refusesASlidingWindowAsLlamaNamingMistral() throws Exception {
    ObjectNode config = llamaConfig();
    config.put("model_type", "mistral");
    config.putArray("architectures").add("MistralForCausalLM");
    config.put("sliding_window", 8);
    hfFolder("hf", config, llamaTensors("model.", true));
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString()).exit())
        .isEqualTo(Main.OK);
    Result r = cli("export", dir.resolve("imp").toString(), "--format", "llama", "-o", dir.resolve("o").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("model.blocks.attention.sliding_window: true — --format mistral takes it");
    Result m = cli("export", dir.resolve("imp").toString(), "--format", "mistral", "-o", dir.resolve("m").toString());
    assertThat(m.exit()).as(m.err()).isEqualTo(Main.OK);
    assertThat(JSON.readTree(dir.resolve("m/config.json").toFile()).get("sliding_window").asInt()).isEqualTo(8);
  }

  @Test
  void export_aboveTheShardLimit_writesShardsAndAnIndexThatImportsBack() throws Exception {
    Map<String, Tensor> tensors = llamaTensors("model.", true);
    hfFolder("hf", llamaConfig(), tensors);
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString()).exit()).isZero();
    Result r = cli("export", dir.resolve("imp").toString(), "--format", "llama", "--max-shard-bytes", "20000", "-o",
        dir.resolve("out").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(dir.resolve("out").resolve(ShardedSafetensors.INDEX)).exists();
    assertThat(cli("import", dir.resolve("out").toString(), "-o", dir.resolve("again").toString()).exit()).isZero();
    assertSameTensors(Safetensors.read(dir.resolve("imp/model.safetensors")).tensors(),
        Safetensors.read(dir.resolve("again/model.safetensors")).tensors());
  }

  @Test
  void export_refusesAnUnknownFormatAndATransformerStackAsMamba() throws Exception {
    hfFolder("hf", llamaConfig(), llamaTensors("model.", true));
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString()).exit()).isZero();
    Result bad = cli("export", dir.resolve("imp").toString(), "--format", "gpt2", "-o", dir.resolve("o").toString());
    assertThat(bad.exit()).isEqualTo(Main.INVALID);
    assertThat(bad.err()).contains("--format: 'gpt2' is not a format — allowed: llama, mistral, qwen2, mamba, mamba2");
    Result mamba = cli("export", dir.resolve("imp").toString(), "--format", "mamba", "-o", dir.resolve("o").toString());
    assertThat(mamba.exit()).isEqualTo(Main.INVALID);
    assertThat(mamba.err()).contains("model.blocks.attention.kind: transformer — --format mamba holds ssm mamba1 "
        + "blocks only (transformer blocks: --format llama)");
  }

  @Test
  void importAndExport_refuseAnOutputFolderThatIsNotEmpty() throws Exception {
    hfFolder("hf", llamaConfig(), llamaTensors("model.", true));
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString()).exit()).isZero();
    Result again = cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString());
    assertThat(again.exit()).isEqualTo(Main.INVALID);
    assertThat(again.err()).contains(dir.resolve("imp") + ": exists and is not empty — give a new or empty folder");
    Result export = cli("export", dir.resolve("imp").toString(), "--format", "llama", "-o", dir.resolve("hf").toString());
    assertThat(export.exit()).isEqualTo(Main.INVALID);
    assertThat(export.err()).contains(dir.resolve("hf") + ": exists and is not empty");
  }

  @Test
  void import_refusesAFolderWithoutConfigJson() {
    Result r = cli("import", dir.resolve("nothing").toString(), "-o", dir.resolve("imp").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains(dir.resolve("nothing") + ": no config.json (expected a Hugging Face model folder)");
  }

  @Test
  void export_ofASharedBlock_writesACopyAtEveryUseWithAWarning() throws Exception {
    hfFolder("hf", llamaConfig(), llamaTensors("model.", true));
    Path imp = dir.resolve("imp");
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", imp.toString()).exit()).isZero();
    Files.writeString(imp.resolve("config.yaml"), Files.readString(imp.resolve("config.yaml"))
        .replace("{kind: transformer,", "{kind: transformer, shared_weights: true,"));
    Map<String, Tensor> stored = new LinkedHashMap<>(Safetensors.read(imp.resolve("model.safetensors")).tensors());
    stored.keySet().removeIf(n -> n.startsWith("layers.1."));
    Files.delete(imp.resolve("model.safetensors"));
    Safetensors.write(imp.resolve("model.safetensors"), stored, Map.of("format", "fastllm-checkpoint"));
    Result r = cli("export", imp.toString(), "--format", "llama", "-o", dir.resolve("out").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("warning: layer 1 shares block 'attention' with layer 0; written as a copy at every use");
    Map<String, Tensor> out = ShardedSafetensors.read(dir.resolve("out")).tensors();
    assertThat(torch.equal(out.get("model.layers.1.self_attn.k_proj.weight"),
        out.get("model.layers.0.self_attn.k_proj.weight"))).isTrue();
  }

  @Test
  void export_withLoraMerged_writesWPlusScaledBA() throws Exception {
    Map<String, Tensor> original = llamaTensors("model.", true);
    hfFolder("hf", llamaConfig(), original);
    Path imp = dir.resolve("imp");
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", imp.toString()).exit()).isZero();
    Files.writeString(imp.resolve("config.yaml"), Files.readString(imp.resolve("config.yaml"))
        .replace("{kind: transformer,", "{kind: transformer, lora: {rank: 2, alpha: 6.0},"));
    Map<String, Tensor> stored = new LinkedHashMap<>(Safetensors.read(imp.resolve("model.safetensors")).tensors());
    Map<String, Tensor> withAdapters = new LinkedHashMap<>();
    stored.forEach((name, t) -> {
      withAdapters.put(name, t);
      if (name.endsWith("mixer.query.weight") || name.endsWith("mixer.key_value.weight")) {
        String adapter = name.replace("mixer.", "lora.").replace(".weight", "");
        withAdapters.put(adapter + ".a", random(2, H));
        withAdapters.put(adapter + ".b", random(t.size(0), 2));
      }
    });
    Files.delete(imp.resolve("model.safetensors"));
    Safetensors.write(imp.resolve("model.safetensors"), withAdapters, Map.of("format", "fastllm-checkpoint"));
    Result r = cli("export", imp.toString(), "--format", "llama", "--merge-lora", "-o", dir.resolve("m").toString());
    assertThat(r.exit()).as(r.err()).isZero();
    Map<String, Tensor> out = ShardedSafetensors.read(dir.resolve("m")).tensors();
    Tensor a = withAdapters.get("layers.1.lora.key_value.a").to(torch.ScalarType.Double);
    Tensor b = withAdapters.get("layers.1.lora.key_value.b").to(torch.ScalarType.Double);
    Tensor v = original.get("model.layers.1.self_attn.v_proj.weight").to(torch.ScalarType.Double);
    Tensor expected = v.add(b.matmul(a).narrow(0, 8, 8).mul(new org.bytedeco.pytorch.Scalar(3.0)));
    double diff = out.get("model.layers.1.self_attn.v_proj.weight").to(torch.ScalarType.Double).sub(expected).abs()
        .max().item_double();
    assertThat(diff).isLessThan(1e-5);
    assertThat(torch.equal(out.get("model.layers.1.mlp.down_proj.weight"),
        original.get("model.layers.1.mlp.down_proj.weight"))).isTrue();
  }

  @Test
  void import_ofBf16Weights_givesTheirFloat32Values() throws Exception {
    Map<String, Tensor> bf16 = new LinkedHashMap<>();
    llamaTensors("model.", true).forEach((name, t) -> bf16.put(name, t.to(torch.ScalarType.BFloat16)));
    hfFolder("hf", llamaConfig(), bf16);
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("imp").toString()).exit()).isZero();
    Map<String, Tensor> imported = Safetensors.read(dir.resolve("imp/model.safetensors")).tensors();
    Tensor query = imported.get("layers.0.mixer.query.weight");
    assertThat(query.scalar_type().intern()).isEqualTo(torch.ScalarType.Float);
    assertThat(torch.equal(query, bf16.get("model.layers.0.self_attn.q_proj.weight").to(torch.ScalarType.Float)))
        .isTrue();
  }

  @Test
  void export_refusesAShardLimitBelowOne() throws Exception {
    Result r = cli("export", dir.toString(), "--format", "llama", "--max-shard-bytes", "0", "-o",
        dir.resolve("o").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("--max-shard-bytes: 0 — must be at least 1");
  }
}
