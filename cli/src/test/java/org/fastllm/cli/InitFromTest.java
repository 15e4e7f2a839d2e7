package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train --init-from}: one run of two steps is made once; each case starts a fresh run from its weights. */
class InitFromTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path source;

  @BeforeAll
  static void trainOnce() {
    source = shared.resolve("source");
    MainTest.Run r = TrainCommandIT.train(source, concat(TrainCommandIT.SMALL, "training.steps=2",
        "training.eval_interval=1"));
    assertThat(r.exit()).as(r.err()).isZero();
  }

  private static String[] concat(String[] a, String... b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }

  private static String valLoss(Path metrics, int line) throws IOException {
    return Files.readAllLines(metrics).get(line).replaceAll(".*\"val_loss\":([^,}]+).*", "$1");
  }

  @Test
  void initFrom_runFolder_startsAtStepZeroFromItsWeights() throws IOException {
    Path run = dir.resolve("run");
    // a learning rate too small to move a float32 weight: the first evaluation sees the source's weights as saved
    MainTest.Run r = MainTest.run("train", "--init-from", source.toString(), "training.output_dir=" + run,
        "training.steps=1", "optimizer.learning_rate=1e-30", "optimizer.min_learning_rate=0");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("initialised from " + source.resolve("checkpoints/step-000002")
        + " (fresh optimizer, step 0)");
    List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
    assertThat(metrics).hasSize(1);
    assertThat(metrics.get(0)).startsWith("{\"step\":1,");
    assertThat(valLoss(run.resolve("metrics.jsonl"), 0)).isEqualTo(valLoss(source.resolve("metrics.jsonl"), 1));
    assertThat(Files.readString(run.resolve("checkpoints/step-000001/state.json"))).contains("\"step\":1,");
  }

  @Test
  void initFrom_withoutIt_theSameRunStartsElsewhere() throws IOException {
    Path run = dir.resolve("random");
    MainTest.Run r = MainTest.run("train", "--config", source.resolve("checkpoints/step-000002/config.yaml")
        .toString(), "training.output_dir=" + run, "training.steps=1", "optimizer.learning_rate=1e-30",
        "optimizer.min_learning_rate=0");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(valLoss(run.resolve("metrics.jsonl"), 0)).isNotEqualTo(valLoss(source.resolve("metrics.jsonl"), 1));
  }

  @Test
  void initFrom_differentModel_isRefusedListingKeysAndTensors() {
    MainTest.Run r = MainTest.run("train", "--init-from", source.toString(), "training.output_dir="
        + dir.resolve("wider"), "model.blocks.attention.ffn_hidden_size=128");

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    Path folder = source.resolve("checkpoints/step-000002");
    assertThat(r.err()).contains("error: --init-from " + folder + ": its model differs from the run's config (give "
        + "--init-from-partial to take the tensors whose name and shape match):\n"
        + "  model.blocks.attention.ffn_hidden_size is 256 in " + folder + ", 128 in the config\n"
        + "  'layers.0.mlp.layer_1.weight' has shape [256, 128] in " + folder + ", [128, 128] in the model\n"
        + "  'layers.0.mlp.layer_1.bias' has shape [256] in " + folder + ", [128] in the model\n"
        + "  'layers.0.mlp.layer_2.weight' has shape [128, 256] in " + folder + ", [128, 128] in the model\n");
    assertThat(dir.resolve("wider").resolve("metrics.jsonl")).doesNotExist();
  }

  @Test
  void initFromPartial_blockOfAnotherKind_listsTheFreshTensorsOfItsLayer() {
    MainTest.Run r = MainTest.run("train", "--init-from", source.toString(), "--init-from-partial",
        "training.output_dir=" + dir.resolve("surgery"), "training.steps=1",
        "model.block_pattern=[mamba, mamba, shared, shared]");

    assertThat(r.exit()).as(r.err()).isZero();
    Path folder = source.resolve("checkpoints/step-000002");
    assertThat(r.err()).contains("initialised from " + folder + " where name and shape match (fresh optimizer, "
        + "step 0); initialised fresh instead:\n  layers.0: ");
    String fresh = r.err().lines().filter(l -> l.startsWith("  layers.0: ")).findFirst().orElseThrow();
    assertThat(fresh).contains("mixer.").doesNotContain("norm_1");
    assertThat(r.err().lines().filter(l -> l.matches("  layers\\.\\d+: .*"))).hasSize(1);
    assertThat(r.err()).contains("  not used from " + folder + ": layers.0.mixer.");
  }

  @Test
  void initFrom_folderWithoutModel_isRefusedSayingWhatIsExpected() {
    MainTest.Run r = MainTest.run("train", "--init-from", dir.toString(), "training.output_dir=" + dir.resolve("x"));

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: " + dir + ": no model here (expected a checkpoint folder, a run folder, or "
        + "an imported-model folder with config.yaml and model.safetensors or model.safetensors.index.json; convert "
        + "a Hugging Face folder with 'fastllm-cli import' first)");
  }

  @Test
  void initFrom_withResume_isRefused() {
    MainTest.Run r = MainTest.run("train", "--init-from", source.toString(), "--resume", source.toString());

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).contains("error: --init-from with --resume: a resumed run continues its checkpoint, "
        + "--init-from starts a fresh run from one; give one of them");
  }
}
