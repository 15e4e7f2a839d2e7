package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.optim.ScheduleSegment;
import org.fastllm.modules.testing.Torch;
import org.fastllm.modules.train.Trainer;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The facade on a real model: the folder a save writes, byte for byte where a byte is fixed, and the way back. */
class CheckpointTest {
  static final String YAML = """
      model:
        hidden_size: 16
        vocab_size: 256
        blocks:
          a: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
          s: {kind: transformer, num_heads: 2, ffn_hidden_size: 32, shared_weights: true}
        block_pattern: [a, s, s]
        num_layers: 3
      training: {steps: 2, batch_size: 2, sequence_length: 8, seed: 3, device: cpu}
      """;
  @TempDir Path dir;

  private static Trainer trainer(long seed) throws IOException {
    Torch.seed(seed);
    ConfigDocument config = ConfigLoader.standard().load("run.yaml", YAML).resolved().withRunDefaults();
    return Trainer.create(config, YAML, TrainingData.load(config.data(), config.model().vocabSize(),
        () -> "a heron waits on a stone. ".repeat(20)), Optional.empty());
  }

  private static TrainState state(long step) {
    return new TrainState(Checkpoint.FORMAT_VERSION, step, 2 * step, 3, "cng=", 4.5, 1, ScheduleSegment.whole(100));
  }

  @Test
  void save_writesTheFourFilesOfTheFormat() throws IOException {
    try (Trainer trainer = trainer(0)) {
      Path folder = Checkpoint.save(dir, "model: {}\n", trainer.model(), trainer.optimizer(), state(2), 3);

      try (Stream<Path> files = Files.list(folder)) {
        assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
            .isEqualTo(List.of("config.yaml", "model.safetensors", "optimizer.safetensors", "state.json"));
      }
      assertThat(Files.readString(folder.resolve("config.yaml"))).isEqualTo("model: {}\n");
      assertThat(Files.readString(folder.resolve("state.json")))
          .isEqualTo("{\"format_version\":2,\"step\":2,\"micro_batches\":4,\"seed\":3,\"torch_rng\":\"cng=\","
              + "\"best_validation_loss\":4.5,\"world_size\":1,"
              + "\"lr_schedule\":{\"start_step\":0,\"start_rate\":0.0,\"total_steps\":100}}");
      Map<String, String> model = Safetensors.read(folder.resolve("model.safetensors")).metadata();
      assertThat(List.copyOf(model.keySet())).isEqualTo(List.of("format", "format_version", "shared"));
      assertThat(model.get("format")).isEqualTo("fastllm-checkpoint");
      assertThat(model.get("shared").startsWith("{\"layers.2.")).as(model.get("shared")).isTrue();
      Map<String, String> optimizer = Safetensors.read(folder.resolve("optimizer.safetensors")).metadata();
      assertThat(List.copyOf(optimizer.keySet())).isEqualTo(List.of("format_version", "steps"));
      assertThat(Files.readString(dir.resolve("latest"))).isEqualTo("step-000002\n");
    }
  }

  @Test
  void stateJson_ofAnOlderRun_readsWithoutAScheduleSegment() throws IOException {
    TrainState older = Checkpoint.JSON.readValue("{\"format_version\":2,\"step\":2,\"micro_batches\":4,"
        + "\"seed\":3,\"torch_rng\":\"cng=\",\"best_validation_loss\":4.5,\"world_size\":1}", TrainState.class);

    assertThat(older.lrSchedule()).isNull();
    assertThat(older.step()).isEqualTo(2);
  }

  @Test
  void restoreWeights_intoAModelOfAnotherSeed_makesItsTensorsEqual() throws IOException {
    try (Trainer saved = trainer(0); Trainer other = trainer(1)) {
      Checkpoint.save(dir, YAML, saved.model(), saved.optimizer(), state(0), 1);

      Checkpoint.Loaded loaded = Checkpoint.load(dir);
      Checkpoint.restoreWeights(loaded, other.model());
      Checkpoint.restoreOptimizer(loaded, other.optimizer());

      Map<String, Tensor> wanted = ModelTensors.weights(saved.model());
      Map<String, Tensor> got = ModelTensors.weights(other.model());
      assertThat(got.keySet()).isEqualTo(wanted.keySet());
      wanted.forEach((name, tensor) -> assertThat(torch.equal(tensor, got.get(name))).as(name).isTrue());
      assertThat(loaded.state()).isEqualTo(state(0));
    }
  }
}
