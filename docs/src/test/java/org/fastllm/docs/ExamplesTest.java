package org.fastllm.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every file under docs/examples loads as the guides say: new-format files cleanly, legacy ones with warnings. */
class ExamplesTest {
  static final Path EXAMPLES = Path.of("examples");

  static Stream<Path> examples() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  static boolean isLegacy(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith("legacy-") && !name.endsWith(".migrated.yaml");
  }

  @ParameterizedTest
  @MethodSource("examples")
  void load_example_isValidAndLegacyOnlyWhenNamedSo(Path file) {
    LoadedConfig config = ConfigLoader.standard().load(file);

    assertThat(config.legacy()).as("%s read as the legacy format", file).isEqualTo(isLegacy(file));
    if (isLegacy(file)) {
      assertThat(config.warnings()).as("%s deprecation warnings", file).isNotEmpty();
    } else {
      assertThat(config.warnings().stream().map(Problem::render)).as("%s warnings", file).isEmpty();
    }
    assertThat(config.count().total()).isPositive();
  }

  @Test
  void examples_folder_holdsTheWorkedExamplesTheGuidesLinkTo() throws IOException {
    assertThat(examples().map(f -> f.getFileName().toString())).contains("mixed-attention.yaml",
        "interleaved-ssm-attention.yaml", "shared-and-unshared.yaml", "lora-per-use.yaml", "plugin-gated-conv.yaml",
        "run-tiny-hybrid.yaml", "run-tiny-gated-conv.yaml", "legacy-model-only.yaml",
        "legacy-model-only.migrated.yaml", "legacy-fast-llm-hybrid.yaml");
  }
}
