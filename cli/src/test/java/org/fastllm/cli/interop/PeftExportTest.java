package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fastllm.cli.interop.HfInteropTest.cli;
import static org.fastllm.cli.interop.HfInteropTest.random;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Export of a checkpoint with LoRA adapters as a base plus a PEFT adapter folder: merged by a double-precision
 * reference, the adapter folder gives the weights of the {@code --merge-lora} export; names and config are PEFT's.
 */
class PeftExportTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int H = 16;
  private static final String PEFT = "base_model.model.";

  @TempDir
  Path dir;

  /**
   * An imported two-layer Llama whose config.yaml is edited by {@code edit}, whose weights gain {@code extra} and lose
   * those {@code drop} names.
   */
  private Path checkpoint(java.util.function.UnaryOperator<String> edit, Map<String, Tensor> extra,
      java.util.function.Predicate<String> drop) throws Exception {
    return checkpoint(HfInteropTest.llamaConfig(), HfInteropTest.llamaTensors("model.", true), edit, extra, drop);
  }

  private Path checkpoint(JsonNode hfConfig, Map<String, Tensor> hfTensors,
      java.util.function.UnaryOperator<String> edit, Map<String, Tensor> extra,
      java.util.function.Predicate<String> drop) throws Exception {
    Path hf = dir.resolve("hf");
    Files.createDirectories(hf);
    Files.writeString(hf.resolve("config.json"), JSON.writeValueAsString(hfConfig));
    Safetensors.write(hf.resolve("model.safetensors"), hfTensors, Map.of("format", "pt"));
    Path imp = dir.resolve("imp");
    assertThat(cli("import", hf.toString(), "-o", imp.toString()).exit()).isZero();
    Files.writeString(imp.resolve("config.yaml"), edit.apply(Files.readString(imp.resolve("config.yaml"))));
    Map<String, Tensor> stored = new LinkedHashMap<>(Safetensors.read(imp.resolve("model.safetensors")).tensors());
    stored.keySet().removeIf(drop);
    stored.putAll(extra);
    Files.delete(imp.resolve("model.safetensors"));
    Safetensors.write(imp.resolve("model.safetensors"), stored, Map.of("format", "fastllm-checkpoint"));
    return imp;
  }

  /** Random A [rank, H] and B [rows, rank] under {@code prefix}{@code target}.a / .b. */
  private static void adapter(Map<String, Tensor> into, String prefix, String target, int rank, long rows) {
    adapter(into, prefix, target, rank, rows, H);
  }

  /** Random A [rank, columns] and B [rows, rank]. */
  private static void adapter(Map<String, Tensor> into, String prefix, String target, int rank, long rows,
      long columns) {
    into.put(prefix + target + ".a", random(rank, columns));
    into.put(prefix + target + ".b", random(rows, rank));
  }

  /** Exports twice, with and without --merge-lora; checks the PEFT folder merged in double equals the merged export. */
  private JsonNode exportBothWays(Path imp, Path adapter, String... extra) throws Exception {
    return exportBothWays("llama", imp, adapter, extra);
  }

  private JsonNode exportBothWays(String format, Path imp, Path adapter, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("export", imp.toString(), "--format", format, "-o",
        dir.resolve("out").toString()));
    args.addAll(List.of(extra));
    HfInteropTest.Result plain = cli(args.toArray(String[]::new));
    assertThat(plain.exit()).as(plain.err()).isZero();
    assertThat(plain.out()).contains(adapter + ": PEFT LoRA adapter of ");
    HfInteropTest.Result merged = cli("export", imp.toString(), "--format", format, "--merge-lora", "-o",
        dir.resolve("merged").toString());
    assertThat(merged.exit()).as(merged.err()).isZero();
    assertThat(dir.resolve("merged/adapter")).doesNotExist();
    Map<String, Tensor> base = ShardedSafetensors.read(dir.resolve("out")).tensors();
    Map<String, Tensor> want = ShardedSafetensors.read(dir.resolve("merged")).tensors();
    Map<String, Tensor> lora = Safetensors.read(adapter.resolve(PeftAdapter.WEIGHTS)).tensors();
    JsonNode config = JSON.readTree(adapter.resolve(PeftAdapter.CONFIG).toFile());
    assertThat(base.keySet()).isEqualTo(want.keySet());
    for (String name : base.keySet().stream().filter(n -> n.endsWith(".weight")).toList()) {
      String module = name.substring(0, name.length() - ".weight".length());
      Tensor a = lora.get(PEFT + module + ".lora_A.weight");
      Tensor reference = base.get(name).to(torch.ScalarType.Double);
      if (a != null) {
        Tensor b = lora.get(PEFT + module + ".lora_B.weight").to(torch.ScalarType.Double);
        reference = reference.add(b.matmul(a.to(torch.ScalarType.Double)).mul(new Scalar(scale(config, module))));
      }
      double diff = want.get(name).to(torch.ScalarType.Double).sub(reference).abs().max().item_double();
      assertThat(diff).as(name).isLessThan(1e-5);
    }
    return config;
  }

  /** PEFT's scale of a module: {@code lora_alpha / r}, each from its pattern when one names the module. */
  private static double scale(JsonNode config, String module) {
    double r = config.get("r").asDouble();
    double alpha = config.get("lora_alpha").asDouble();
    for (var e : config.get("rank_pattern").properties()) {
      r = peftMatches(e.getKey(), module) ? e.getValue().asDouble() : r;
    }
    for (var e : config.get("alpha_pattern").properties()) {
      alpha = peftMatches(e.getKey(), module) ? e.getValue().asDouble() : alpha;
    }
    return alpha / r;
  }

  /** PEFT's rule for a rank_pattern / alpha_pattern key: the module's name ends with ".key" (or is the key). */
  private static boolean peftMatches(String key, String module) {
    return Pattern.compile("(.*\\.)?(" + key + ")").matcher(module).matches();
  }

  @Test
  void export_withoutMerge_writesAPeftFolderWhoseMergeEqualsTheMergedExport() throws Exception {
    Map<String, Tensor> extra = new LinkedHashMap<>();
    adapter(extra, "layers.0.lora.", "query", 2, H);
    adapter(extra, "layers.0.lora.", "key_value", 2, 16);
    adapter(extra, "layers.0.lora.", "layer_1", 2, 48);
    adapter(extra, "layers.1.lora.", "query", 4, H);
    Path imp = checkpoint(yaml -> yaml.replaceAll("(?m)^    attention: \\{kind: transformer,(.*)$",
        "    attention: {kind: transformer, lora: {rank: 2, alpha: 6.0, targets: [query, key_value, layer_1]},$1\n"
            + "    other: {kind: transformer, lora: {rank: 4, alpha: 2.0, targets: [query]},$1")
        .replace("block_pattern: [attention]", "block_pattern: [attention, other]"), extra, n -> false);
    JsonNode config = exportBothWays(imp, dir.resolve("out/adapter"));
    Map<String, Tensor> lora = Safetensors.read(dir.resolve("out/adapter/adapter_model.safetensors")).tensors();
    List<String> modules = List.of("model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.k_proj",
        "model.layers.0.self_attn.v_proj", "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.up_proj",
        "model.layers.1.self_attn.q_proj");
    List<String> names = new ArrayList<>();
    modules.forEach(m -> names.addAll(List.of(PEFT + m + ".lora_A.weight", PEFT + m + ".lora_B.weight")));
    assertThat(lora.keySet()).containsExactlyInAnyOrderElementsOf(names);
    assertThat(torch.equal(lora.get(PEFT + "model.layers.0.self_attn.k_proj.lora_A.weight"),
        lora.get(PEFT + "model.layers.0.self_attn.v_proj.lora_A.weight"))).isTrue();
    assertThat(lora.get(PEFT + "model.layers.0.mlp.up_proj.lora_B.weight").sizes().vec().get()).containsExactly(24, 2);
    assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
    assertThat(config.get("task_type").asText()).isEqualTo("CAUSAL_LM");
    assertThat(config.get("base_model_name_or_path").asText())
        .isEqualTo(dir.resolve("out").toAbsolutePath().toString());
    assertThat(config.get("r").asInt()).isEqualTo(2);
    assertThat(config.get("lora_alpha").asDouble()).isEqualTo(6.0);
    assertThat(config.get("rank_pattern").toString()).isEqualTo("{\"layers.1.self_attn.q_proj\":4}");
    assertThat(config.get("alpha_pattern").toString()).isEqualTo("{\"layers.1.self_attn.q_proj\":2}");
    // A string target_modules is matched in full against every module name of the base model.
    Pattern targets = Pattern.compile(config.get("target_modules").asText());
    List<String> all = new ArrayList<>();
    ShardedSafetensors.read(dir.resolve("out")).tensors().keySet()
        .forEach(n -> all.add(n.substring(0, n.length() - ".weight".length())));
    assertThat(all.stream().filter(m -> targets.matcher(m).matches()).toList())
        .containsExactlyInAnyOrderElementsOf(modules);
    assertThat(all.stream().filter(m -> peftMatches("layers.1.self_attn.q_proj", m)).toList())
        .containsExactly("model.layers.1.self_attn.q_proj");
  }

  @Test
  void export_ofASharedBlockWithPerUseAdapters_writesEachUseItsOwnAdapterAndShortTargetNames() throws Exception {
    Map<String, Tensor> extra = new LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      adapter(extra, "adapters." + i + ".", "query", 2, H);
      adapter(extra, "adapters." + i + ".", "key_value", 2, 16);
    }
    // A shared block's weights are stored at its first use only.
    Path imp = checkpoint(yaml -> yaml.replace("{kind: transformer,",
        "{kind: transformer, shared_weights: true, lora: {rank: 2, alpha: 4.0, per_use: true},"), extra,
        n -> n.startsWith("layers.1."));
    Path adapter = dir.resolve("elsewhere");
    JsonNode config = exportBothWays(imp, adapter, "--adapter-dir", adapter.toString());
    assertThat(dir.resolve("out/adapter")).doesNotExist();
    TreeSet<String> targets = new TreeSet<>();
    config.get("target_modules").forEach(t -> targets.add(t.asText()));
    assertThat(targets).containsExactly("k_proj", "q_proj", "v_proj");
    assertThat(config.get("rank_pattern").size()).isZero();
    Map<String, Tensor> lora = Safetensors.read(adapter.resolve(PeftAdapter.WEIGHTS)).tensors();
    assertThat(lora).hasSize(12);
    assertThat(torch.equal(lora.get(PEFT + "model.layers.0.self_attn.q_proj.lora_B.weight"),
        lora.get(PEFT + "model.layers.1.self_attn.q_proj.lora_B.weight"))).isFalse();
  }

  @Test
  void export_ofASharedBlockWithOneAdapter_writesThatAdapterAtEveryUse() throws Exception {
    Map<String, Tensor> extra = new LinkedHashMap<>();
    adapter(extra, "layers.0.lora.", "query", 2, H);
    Path imp = checkpoint(yaml -> yaml.replace("{kind: transformer,",
        "{kind: transformer, shared_weights: true, lora: {rank: 2, alpha: 4.0, targets: [query]},"), extra,
        n -> n.startsWith("layers.1."));
    exportBothWays(imp, dir.resolve("out/adapter"));
    Map<String, Tensor> lora = Safetensors.read(dir.resolve("out/adapter").resolve(PeftAdapter.WEIGHTS)).tensors();
    assertThat(lora).hasSize(4);
    assertThat(torch.equal(lora.get(PEFT + "model.layers.0.self_attn.q_proj.lora_B.weight"),
        lora.get(PEFT + "model.layers.1.self_attn.q_proj.lora_B.weight"))).isTrue();
  }

  @Test
  void export_ofMambaWithAdaptersOnInAndOutProj_writesThemUnderTheBackbonesNames() throws Exception {
    var config = JSON.createObjectNode().put("model_type", "mamba").put("vocab_size", 256).put("hidden_size", H)
        .put("state_size", 8).put("num_hidden_layers", 2).put("intermediate_size", 32).put("time_step_rank", 1);
    Map<String, Tensor> extra = new LinkedHashMap<>();
    for (int i = 0; i < 2; i++) {
      adapter(extra, "layers." + i + ".lora.", "in_proj", 2, 64);
      adapter(extra, "layers." + i + ".lora.", "out_proj", 2, H, 32);
    }
    Path imp = checkpoint(config, HfInteropTest.mambaTensors(), yaml -> yaml.replace("{kind: ssm,",
        "{kind: ssm, lora: {rank: 2, alpha: 3.0, targets: [in_proj, out_proj]},"), extra, n -> false);
    JsonNode peft = exportBothWays("mamba", imp, dir.resolve("out/adapter"));
    TreeSet<String> targets = new TreeSet<>();
    peft.get("target_modules").forEach(t -> targets.add(t.asText()));
    assertThat(targets).containsExactly("in_proj", "out_proj");
    assertThat(Safetensors.read(dir.resolve("out/adapter").resolve(PeftAdapter.WEIGHTS)).tensors())
        .containsKey(PEFT + "backbone.layers.1.mixer.out_proj.lora_A.weight").hasSize(8);
  }

  @Test
  void export_refusesAnAdapterDirWhenNothingGoesThere() throws Exception {
    Path imp = checkpoint(yaml -> yaml, Map.of(), n -> false);
    HfInteropTest.Result r = cli("export", imp.toString(), "--format", "llama", "--adapter-dir",
        dir.resolve("a").toString(), "-o", dir.resolve("o").toString());
    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("--adapter-dir: nothing goes there — " + imp + " has no LoRA adapters");
  }
}
