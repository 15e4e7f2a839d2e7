package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fastllm.cli.interop.HfInteropTest.cli;
import static org.fastllm.cli.interop.HfInteropTest.random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Mamba2ForCausalLM in and out: transformers' Mamba2Config keys and tensor names, as mamba2_standard blocks. */
class HfMamba2InteropTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int H = 16;
  private static final int V = 256;
  /** expand 2: d_inner 32 in 4 heads of 8, 2 groups of state 4; conv over 32 + 2 x 2 x 4 = 48 channels. */
  private static final int INNER = 32;
  private static final int HEADS = 4;
  private static final int CONV = 48;

  @TempDir
  Path dir;

  /** A config.json as Python's json writes it: the default time_step_limit is {@code [0.0, Infinity]}. */
  private static String config(boolean useBias, boolean convBias, String extra) {
    return """
        {"architectures": ["Mamba2ForCausalLM"], "model_type": "mamba2", "vocab_size": %d, "hidden_size": %d,
         "num_hidden_layers": 2, "expand": 2, "num_heads": %d, "head_dim": 8, "n_groups": 2, "state_size": 4,
         "conv_kernel": 4, "chunk_size": 8, "use_bias": %s, "use_conv_bias": %s, "layer_norm_epsilon": 1e-05,
         "rms_norm": true, "residual_in_fp32": true, "time_step_rank": 1, "time_step_min": 0.001,
         "time_step_max": 0.1, "time_step_floor": 0.0001, "time_step_limit": [0.0, Infinity], "hidden_act": "silu",
         "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "tie_word_embeddings": false%s}
        """.formatted(V, H, HEADS, useBias, convBias, extra);
  }

  private static Map<String, Tensor> tensors(boolean useBias, boolean convBias) {
    Map<String, Tensor> t = new LinkedHashMap<>();
    t.put("backbone.embeddings.weight", random(V, H));
    for (int i = 0; i < 2; i++) {
      String l = "backbone.layers." + i + ".";
      t.put(l + "norm.weight", random(H));
      t.put(l + "mixer.in_proj.weight", random(INNER + CONV + HEADS, H));
      if (useBias) {
        t.put(l + "mixer.in_proj.bias", random(INNER + CONV + HEADS));
        t.put(l + "mixer.out_proj.bias", random(H));
      }
      t.put(l + "mixer.conv1d.weight", random(CONV, 1, 4));
      if (convBias) {
        t.put(l + "mixer.conv1d.bias", random(CONV));
      }
      t.put(l + "mixer.dt_bias", random(HEADS));
      t.put(l + "mixer.A_log", random(HEADS));
      t.put(l + "mixer.D", random(HEADS));
      t.put(l + "mixer.norm.weight", random(INNER));
      t.put(l + "mixer.out_proj.weight", random(H, INNER));
    }
    t.put("backbone.norm_f.weight", random(H));
    t.put("lm_head.weight", random(V, H));
    return t;
  }

  private Path hfFolder(String config, Map<String, Tensor> tensors) throws Exception {
    Path folder = dir.resolve("hf");
    Files.createDirectories(folder);
    Files.writeString(folder.resolve("config.json"), config);
    Safetensors.write(folder.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    return folder;
  }

  @Test
  void import_timeStepLimitAsTransformers5WritesIt_isTheUnclampedDefault() throws Exception {
    String config = config(false, true, "").replace("[0.0, Infinity]", "[0.0, {\"__float__\": \"Infinity\"}]");
    HfInteropTest.Result r = cli("import", hfFolder(config, tensors(false, true)).toString(), "-o",
        dir.resolve("imp").toString());
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.OK);
  }

  @ParameterizedTest
  @CsvSource({"false, true", "true, false"})
  void mamba2_importThenExport_givesTheSameTensorsAndSizes(boolean useBias, boolean convBias) throws Exception {
    Map<String, Tensor> tensors = tensors(useBias, convBias);
    Path hf = hfFolder(config(useBias, convBias, ""), tensors);
    HfInteropTest.Result imported = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    assertThat(Files.readString(dir.resolve("imp/config.yaml"))).contains("variant: mamba2_standard", "d_inner: 32",
        "head_size: 8", "n_groups: 2", "state_size: 4", "chunk_size: 8", "conv_bias: " + convBias,
        "add_linear_biases: " + useBias, "epsilon: 1.0E-5");
    HfInteropTest.Result exported = cli("export", dir.resolve("imp").toString(), "--format", "mamba2", "-o",
        dir.resolve("out").toString());
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    Map<String, Tensor> out = ShardedSafetensors.read(dir.resolve("out")).tensors();
    assertThat(out.keySet()).containsExactlyInAnyOrderElementsOf(tensors.keySet());
    tensors.forEach((name, t) -> assertThat(torch.equal(t, out.get(name))).as(name).isTrue());
    JsonNode json = JSON.readTree(dir.resolve("out/config.json").toFile());
    assertThat(json.get("architectures").get(0).asText()).isEqualTo("Mamba2ForCausalLM");
    assertThat(json.get("num_heads").asInt() * json.get("head_dim").asInt())
        .isEqualTo(json.get("expand").asInt() * json.get("hidden_size").asInt()).isEqualTo(INNER);
    assertThat(json.get("n_groups").asInt()).isEqualTo(2);
    assertThat(json.get("use_conv_bias").asBoolean()).isEqualTo(convBias);
    assertThat(json.get("use_bias").asBoolean()).isEqualTo(useBias);
    assertThat(json.get("tie_word_embeddings").asBoolean()).isFalse();
  }

  @Test
  void import_clampedTimeStepsInconsistentHeadsAndUnknownKeys_refusedByName() throws Exception {
    String config = config(false, true, ", \"norm_before_gate\": true, \"mlp_ratio\": 4")
        .replace("[0.0, Infinity]", "[0.0, 0.1]").replace("\"num_heads\": 4", "\"num_heads\": 5");
    Path hf = hfFolder(config, tensors(false, true));
    HfInteropTest.Result r = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("num_heads x head_dim (5 x 8) must equal expand x hidden_size (2 x 16)",
        "norm_before_gate: true is not supported — allowed: false",
        "time_step_limit: [0.0,0.1] is not supported — allowed: [0.0, Infinity] (dt not clamped)",
        "keys nothing here reads: mlp_ratio");
    assertThat(dir.resolve("imp")).doesNotExist();
  }

  @Test
  void import_conv1dBiasWithUseConvBiasFalse_isClaimedByNothing() throws Exception {
    Path hf = hfFolder(config(false, false, ""), tensors(false, true));
    HfInteropTest.Result r = cli("import", hf.toString(), "-o", dir.resolve("imp").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("backbone.layers.0.mixer.conv1d.bias is claimed by nothing (not supported)");
  }

  @Test
  void export_ofAMamba1Stack_refusedNamingTheBlockAndTheFormatThatTakesIt() throws Exception {
    Path hf = hfFolder(config(false, true, ""), tensors(false, true));
    assertThat(cli("import", hf.toString(), "-o", dir.resolve("imp").toString()).exit()).isEqualTo(Main.OK);
    Path yaml = dir.resolve("imp/config.yaml");
    Files.writeString(yaml, Files.readString(yaml).replace("ffn_hidden_size: 0", "ffn_hidden_size: 8"));
    HfInteropTest.Result r = cli("export", dir.resolve("imp").toString(), "--format", "mamba2", "-o",
        dir.resolve("out").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("model.blocks.mamba.ffn_hidden_size: 8 — Mamba 2 blocks have no MLP (0)");
    HfInteropTest.Result mamba = cli("export", dir.resolve("imp").toString(), "--format", "mamba", "-o",
        dir.resolve("out2").toString());
    assertThat(mamba.err()).contains("--format mamba holds ssm mamba1 blocks only");
  }
}
