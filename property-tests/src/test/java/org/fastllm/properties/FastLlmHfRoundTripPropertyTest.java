package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * For generated stacks of the built-in kinds: {@code export --format fastllm-hf} then {@code import} gives an equal
 * resolved model config and bit-identical weights, with each stored tensor written once.
 */
class FastLlmHfRoundTripPropertyTest {
  /** Models above this many stored parameters are drawn again rather than filled with random weights. */
  private static final long MAX_PARAMETERS = 3_000_000L;

  @TempDir
  Path dir;

  private static void cli(String... args) {
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    assertThat(exit).as(String.join(" ", args) + ": " + err).isZero();
  }

  /** Small generated documents whose stored weights fit {@link #MAX_PARAMETERS}. */
  private static Arbitrary<LoadedConfig> small() {
    Arbitrary<org.fastllm.dsl.config.ConfigDocument> documents =
        ConfigGenerators.documents(new ConfigGenerators.Sizes(3, 4, 6));
    return draw -> {
      while (true) {
        org.fastllm.dsl.config.ConfigDocument doc = documents.next(draw);
        LoadedConfig loaded = ConfigPipeline.LOADER.load("generated.yaml", ConfigPipeline.yaml(doc));
        if (loaded.count().total() <= MAX_PARAMETERS) {
          return loaded;
        }
      }
    };
  }

  @Test
  void exportThenImport_givesAnEqualConfigAndBitIdenticalWeights() {
    int[] run = {0};
    Properties.check("fastllm-hf round trip", 25, small().describedAs(l -> ConfigPipeline.yaml(l.resolved())),
        loaded -> {
          try {
            Path base = dir.resolve("case-" + run[0]++);
            Path ckpt = base.resolve("ckpt");
            Files.createDirectories(ckpt);
            Files.writeString(ckpt.resolve("config.yaml"), ConfigPipeline.yaml(loaded.resolved()));
            Map<String, Tensor> weights = new LinkedHashMap<>();
            for (TensorSpec spec : org.fastllm.dsl.count.ModelTensors.of(loaded.model(),
                ConfigPipeline.LOADER.kinds())) {
              weights.put(spec.name(), torch.randn(spec.shape().stream().mapToLong(Long::longValue).toArray()));
            }
            Safetensors.write(ckpt.resolve(ShardedSafetensors.SINGLE), weights, Map.of("format", "fastllm"));
            cli("export", ckpt.toString(), "--format", "fastllm-hf", "-o", base.resolve("hf").toString());
            assertThat(ShardedSafetensors.read(base.resolve("hf")).tensors()).hasSameSizeAs(weights);
            cli("import", base.resolve("hf").toString(), "-o", base.resolve("back").toString());
            assertThat(ConfigPipeline.LOADER.load(base.resolve("back/config.yaml")).model())
                .isEqualTo(loaded.model());
            Map<String, Tensor> back = Safetensors.read(base.resolve("back/model.safetensors")).tensors();
            assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(weights.keySet());
            weights.forEach((name, t) -> assertThat(torch.equal(t, back.get(name))).as(name).isTrue());
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }
}
