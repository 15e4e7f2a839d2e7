package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.fastllm.cli.interop.HfInteropTest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Plugin kinds in a {@code fastllm-hf} folder: the example plugin's gated_conv ships {@code fastllm-hf/gated_conv.py},
 * which export copies beside the {@code fastllm_plugins.py} registry; a kind that ships none is refused naming its
 * block; the folder imports back bit for bit.
 */
class FastLlmHfPluginsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MIXED = """
      model:
        hidden_size: 32
        vocab_size: 64
        blocks:
          conv: {kind: gated_conv, kernel_size: 4, expansion: 2}
          centered: {kind: gated_conv, kernel_size: 3, causal: false, ffn_hidden_size: 0, shared_weights: true}
          attn: {kind: transformer, attention_type: mqa, num_heads: 4, ffn_hidden_size: 48}
        block_pattern: [attn, conv, centered]
        num_layers: 5
      """;
  /** The example plugin's Python file, as its sources hold it (the tests run in the cli module's folder). */
  private static final Path GATED_CONV_PY = Path.of("../example-plugin/src/main/resources/fastllm-hf/gated_conv.py");

  @TempDir Path dir;

  private static List<LayerPlan> layers(String yaml) {
    LoadedConfig loaded = ConfigLoader.standard().load("config.yaml", yaml);
    return BlockPattern.expand(loaded.model()).layers();
  }

  private Map<String, Tensor> checkpoint(String yaml) throws Exception {
    return FastLlmHfInteropTest.checkpoint(dir.resolve("ckpt"), yaml);
  }

  @Test
  void files_ofAStackOfBuiltInKinds_isAnEmptyRegistry() {
    Map<String, String> files = FastLlmHfPlugins.files(layers(FastLlmHfInteropTest.SEED),
        ConfigLoader.standard().kinds());
    assertThat(files).containsExactly(Map.entry("fastllm_plugins.py", "MIXERS = {}\n"));
  }

  @Test
  void files_ofAPluginKindWithoutCode_isRefusedNamingTheBlockAndTheResource() {
    assertThatThrownBy(() -> FastLlmHfPlugins.files(layers(MIXED), kind -> Optional.empty()))
        .isInstanceOf(InteropException.class)
        .hasMessage("model.blocks.conv.kind: gated_conv — its plugin ships no fastllm-hf/gated_conv.py, so --format "
            + "fastllm-hf has no Python code for it; add that resource to the plugin (a Mixer class, see "
            + "docs/interop.md) or export a stack of the built-in kinds: transformer, ssm");
  }

  @Test
  void moduleName_replacesEveryCharacterPythonCannotName() {
    assertThat(FastLlmHfPlugins.moduleName("my-conv.v2")).isEqualTo("fastllm_plugin_my_conv_v2");
  }

  @Test
  void pythonString_escapesQuotesAndBackslashes() {
    assertThat(FastLlmHfPlugins.pythonString("a\"b\\c")).isEqualTo("\"a\\\"b\\\\c\"");
  }

  @Test
  void export_ofTheExamplePluginsKind_writesItsCodeAndTheRegistry_andImportsBackExactly() throws Exception {
    Map<String, Tensor> weights = checkpoint(MIXED);
    HfInteropTest.Result exported = cli("export", dir.resolve("ckpt").toString(), "--format", "fastllm-hf", "-o",
        dir.resolve("hf").toString());
    assertThat(exported.exit()).as(exported.err()).isEqualTo(Main.OK);
    Path hf = dir.resolve("hf");
    assertThat(hf.resolve("fastllm_plugin_gated_conv.py")).hasSameTextualContentAs(GATED_CONV_PY);
    assertThat(Files.readString(hf.resolve("fastllm_plugin_gated_conv.py"))).contains("class Mixer(nn.Module):");
    assertThat(Files.readAllLines(hf.resolve("fastllm_plugins.py"))).containsExactly(
        "from .fastllm_plugin_gated_conv import Mixer as _gated_conv", "MIXERS = {\"gated_conv\": _gated_conv}");
    JsonNode config = JSON.readTree(hf.resolve("config.json").toFile());
    assertThat(config.get("layer_types")).extracting(JsonNode::asText).containsExactly("full_attention",
        "linear_attention", "linear_attention", "full_attention", "linear_attention");
    assertThat(config.at("/blocks/centered/causal").asBoolean(true)).isFalse();

    HfInteropTest.Result imported = cli("import", hf.toString(), "-o", dir.resolve("back").toString());
    assertThat(imported.exit()).as(imported.err()).isEqualTo(Main.OK);
    Map<String, Tensor> back = Safetensors.read(dir.resolve("back").resolve(ShardedSafetensors.SINGLE)).tensors();
    assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(weights.keySet());
    weights.forEach((name, t) -> assertThat(torch.equal(t, back.get(name))).as(name).isTrue());
    ConfigLoader loader = ConfigLoader.standard();
    assertThat(loader.load("back", Files.readString(dir.resolve("back/config.yaml"))).model())
        .isEqualTo(loader.load("ckpt", MIXED).model());
  }
}
