package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eval}: one small run with a held-out split is trained once on a text file; each case scores a file. */
class EvalCommandTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path run;
  static Path text;

  @BeforeAll
  static void trainOnce() throws IOException {
    run = shared.resolve("run");
    text = shared.resolve("corpus.txt");
    Files.writeString(text, BuiltInRun.corpus().substring(0, 8_000), StandardCharsets.UTF_8);
    MainTest.Run r = TrainCommandIT.train(run, Stream.concat(Stream.of(TrainCommandIT.SMALL), Stream.of(
        "training.steps=4", "training.eval_interval=2", "data.path=" + text, "data.validation_fraction=0.1"))
        .toArray(String[]::new));
    assertThat(r.exit()).as(r.err()).isZero();
  }

  private static JsonNode lastMetrics() throws IOException {
    List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
    return new ObjectMapper().readTree(lines.get(lines.size() - 1));
  }

  @Test
  void eval_runFolderOnItsDataFile_reportsTheLossTrainSaw() throws IOException {
    MainTest.Run r = MainTest.run("eval", run.toString(), "--data", text.toString(), "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode result = new ObjectMapper().readTree(r.out());
    double loss = result.get("loss").asDouble();
    assertThat(loss).isFinite();
    assertThat(result.get("perplexity").asDouble()).isCloseTo(Math.exp(loss), within(1e-9 * Math.exp(loss)));
    // 7,999 predicted positions in windows of 32: 249 whole windows
    assertThat(result.get("tokens").asLong()).isEqualTo(249L * 32);
    assertThat(result.get("tokens_per_second").asDouble()).isPositive();
    JsonNode last = lastMetrics();
    assertThat(loss).isCloseTo(last.get("val_loss").asDouble(), within(0.5));
    assertThat(loss).isCloseTo(last.get("loss").asDouble(), within(0.5));
  }

  @Test
  void eval_humanOutput_isOneLineNamingTheFile() {
    MainTest.Run r = MainTest.run("eval", run.resolve("checkpoints").toString(), "--data", text.toString());

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).matches("eval: 7,968 tokens of " + java.util.regex.Pattern.quote(text.toString())
        + ": loss \\d+\\.\\d{4}, perplexity \\d+\\.\\d{2}, [\\d,]+ tokens/s\\R");
  }

  @Test
  void eval_ofARunWithItsKernelsOn_scoresWithTensorOperationsWhereTheyCannotRun() throws IOException {
    // a run trained on a GPU with training.kernels.*=on, scored on a machine where they cannot run
    Path step;
    try (Stream<Path> steps = Files.list(run.resolve("checkpoints"))) {
      step = steps.filter(Files::isDirectory).max(Path::compareTo).orElseThrow();
    }
    Path copy = Files.createDirectories(dir.resolve("kernels-on"));
    try (Stream<Path> files = Files.list(step)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.copy(file, copy.resolve(file.getFileName()));
      }
    }
    Path config = copy.resolve("config.yaml");
    String yaml = Files.readString(config, StandardCharsets.UTF_8);
    String on = yaml.replaceAll("(?m)^(    (norm|loss|rotary|scan)): .*$", "$1: \"on\"");
    assertThat(on).contains("    norm: \"on\"").contains("    loss: \"on\"");
    Files.writeString(config, on, StandardCharsets.UTF_8);

    MainTest.Run kernelsOn = MainTest.run("eval", copy.toString(), "--data", text.toString(), "--json");
    MainTest.Run asSaved = MainTest.run("eval", step.toString(), "--data", text.toString(), "--json");

    assertThat(kernelsOn.exit()).as(kernelsOn.err()).isZero();
    assertThat(new ObjectMapper().readTree(kernelsOn.out()).get("loss").asDouble())
        .isEqualTo(new ObjectMapper().readTree(asSaved.out()).get("loss").asDouble());
  }

  @Test
  void eval_missingDataFile_exitsTwoNamingIt() {
    Path missing = dir.resolve("missing.txt");

    MainTest.Run r = MainTest.run("eval", run.toString(), "--data", missing.toString());

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: " + missing + ": no such file\n");
  }

  @Test
  void eval_fileShorterThanOneWindow_exitsTwo() throws IOException {
    Path small = Files.writeString(dir.resolve("small.txt"), "tiny", StandardCharsets.UTF_8);

    MainTest.Run r = MainTest.run("eval", run.toString(), "--data", small.toString());

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: " + small + ": only 4 tokens, fewer than one window of 33 "
        + "(training.sequence_length 32 + 1)\n");
  }

  @Test
  void eval_noCheckpoint_exitsTwoNamingTheFolder() {
    MainTest.Run r = MainTest.run("eval", dir.toString(), "--data", text.toString());

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).startsWith("error: " + dir + ": no model here");
  }

  @Test
  void eval_textReadAsTokenIds_exitsTwoAsTrainReportsIt() {
    MainTest.Run r = MainTest.run("eval", run.toString(), "--data", text.toString(), "--format", "tokens_u16");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).startsWith("error: " + text + ": token id ").contains("is outside the model's vocabulary "
        + "(model.vocab_size 256)");
  }
}
