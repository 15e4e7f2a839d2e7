package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The run configs under docs/examples train as the docs say (a few short steps here; the example plugin is on this classpath). */
class DocsExamplesTrainTest {
  static final Path EXAMPLES = Path.of("../docs/examples");
  @TempDir Path dir;

  static Stream<Path> runConfigs() throws IOException {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(f -> f.getFileName().toString().startsWith("run-")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("runConfigs")
  void train_docsRunConfigForThreeSteps_exitsZeroAndWritesThreeMetricsLines(Path config) throws IOException {
    Path output = dir.resolve("run");

    MainTest.Run r = MainTest.run("train", "--config", config.toString(), "training.steps=3",
        "training.output_dir=" + output, "training.sequence_length=32", "training.batch_size=2",
        "training.eval_batches=1", "checkpoint.interval=0");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("trained steps 1-3 of 3");
    assertThat(Files.readAllLines(output.resolve("metrics.jsonl"))).hasSize(3);
  }
}
