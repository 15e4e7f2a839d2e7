package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate} warns once about the blocks without a step function; the example plugin's centered gated_conv
 * (which sees a later position, so it cannot continue from a cache) is one.
 */
class RecomputeWarningTest {
  private static final String MODEL = """
      model:
        hidden_size: 16
        vocab_size: 256
        blocks:
          centered: {kind: gated_conv, kernel_size: 3, causal: false, ffn_hidden_size: 32}
          causal: {kind: gated_conv, kernel_size: 3, ffn_hidden_size: 32}
          attention: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
          wide: {kind: gated_conv, kernel_size: 5, causal: false, ffn_hidden_size: 0, shared_weights: true}
        block_pattern: %s
        num_layers: %d
      data:
        tokenizer: bytes
      """;

  @TempDir Path dir;

  /** An imported-model folder: the config and the freshly initialised weights of its model. */
  private Path modelFolder(String pattern, int layers) throws IOException {
    String yaml = MODEL.formatted(pattern, layers);
    LanguageModel model = StackBuilder.installed()
        .build(ConfigLoader.standard().load("config.yaml", yaml).resolved().model().withDefaults());
    Path folder = Files.createDirectories(dir.resolve("model"));
    Files.writeString(folder.resolve("config.yaml"), yaml);
    Map<String, org.bytedeco.pytorch.Tensor> weights = new LinkedHashMap<>();
    for (NamedParameter p : model.uniqueParameters()) {
      weights.put(p.name(), p.tensor());
    }
    Safetensors.write(folder.resolve("model.safetensors"), weights, Map.of("format", "fastllm-checkpoint"));
    return folder;
  }

  private MainTest.Run generateTwoPrompts(Path folder) throws IOException {
    Path prompts = Files.writeString(dir.resolve("prompts.txt"), "one\ntwo\n");
    return MainTest.run("generate", folder.toString(), "--prompt-file", prompts.toString(), "--max-new-tokens", "3",
        "--temperature", "0");
  }

  @Test
  void generate_blocksWithoutAStepFunction_warnsOnceNamingThemInLayerOrder() throws IOException {
    MainTest.Run r = generateTwoPrompts(modelFolder("[causal, wide, attention, centered, wide]", 5));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("warning: blocks 'wide', 'centered' have no step function: their layers recompute"
        + " the whole sequence at every new token, which is slower than decoding from a cache and slows down as the"
        + " text grows\n");
    assertThat(r.out()).contains("prompts.txt:1 <==\none").contains("prompts.txt:2 <==\ntwo");
  }

  @Test
  void generate_oneBlockWithoutAStepFunction_saysSoInTheSingular() throws IOException {
    MainTest.Run r = generateTwoPrompts(modelFolder("[centered, attention]", 2));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo("warning: block 'centered' has no step function: its layers recompute the whole"
        + " sequence at every new token, which is slower than decoding from a cache and slows down as the text"
        + " grows\n");
  }

  @Test
  void generate_everyBlockDecodesFromACache_printsNoWarning() throws IOException {
    MainTest.Run r = generateTwoPrompts(modelFolder("[causal, attention]", 2));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
  }
}
