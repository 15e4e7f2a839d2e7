package org.fastllm.modules.train;

import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.distributed.DistributedLaunch;
import org.fastllm.validation.rules.ArchitectureCheck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.testing.Torch;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tiny hybrid run (attention, discrete Mamba 2, a shared block) trained for a few steps on the CPU. */
class TrainerTest {
  static final String TEXT = "The river wakes before the town does. A heron waits on a stone. ".repeat(40);
  @TempDir Path dir;

  static String yaml(Path output, String extra) {
    return """
        model:
          hidden_size: 32
          vocab_size: 256
          blocks:
            a: {kind: transformer, num_heads: 2, ffn_hidden_size: 64%s}
            m: {kind: ssm, variant: discrete_mamba2, state_size: 8, n_qk_heads: 2, n_v_heads: 2, chunk_size: 8,
                ffn_hidden_size: 64}
            s: {kind: transformer, num_heads: 2, ffn_hidden_size: 64, shared_weights: true}
          block_pattern: [a, m, s, s]
          num_layers: 4
        optimizer: {learning_rate: 3.0e-3, warmup_steps: 2}
        training: {steps: 6, batch_size: 2, sequence_length: 16, gradient_accumulation: 2, seed: 7, device: cpu,
                   eval_interval: 3, eval_batches: 1, output_dir: '%s'}
        checkpoint: {interval: 3, keep: 3}
        """.formatted(extra, output.toString().replace("'", "''"));
  }

  static ConfigDocument config(String yaml) {
    return ConfigLoader.standard().load("run.yaml", yaml).resolved().withRunDefaults();
  }

  static TrainingData data() throws IOException {
    return TrainingData.load(config(yaml(Path.of("x"), "")).data(), 256, () -> TEXT);
  }

  static List<Double> losses(Trainer trainer) throws IOException {
    List<Double> losses = new ArrayList<>();
    trainer.run(r -> losses.add(r.loss()));
    return losses;
  }

  static Trainer trainer(String yaml, Optional<Checkpoint.Loaded> resume) throws IOException {
    Torch.seed(0);
    return Trainer.create(config(yaml), yaml, data(), resume);
  }

  @Test
  void run_sameConfigTwice_givesIdenticalLosses() throws IOException {
    List<Double> first = losses(trainer(yaml(dir.resolve("one"), ""), Optional.empty()));
    List<Double> second = losses(trainer(yaml(dir.resolve("two"), ""), Optional.empty()));

    assertThat(first.size()).isEqualTo(6);
    assertThat(second).isEqualTo(first);
    assertThat(first.get(5) < first.get(0)).as("loss falls: " + first).isTrue();
  }

  @Test
  void run_resumedFromMiddleCheckpoint_givesTheUninterruptedLosses() throws IOException {
    Path output = dir.resolve("run");
    List<Double> uninterrupted = losses(trainer(yaml(output, ""), Optional.empty()));

    Checkpoint.Loaded middle = Checkpoint.load(output.resolve("checkpoints/step-000003"));
    List<Double> resumed = losses(trainer(yaml(dir.resolve("resumed"), ""), Optional.of(middle)));

    assertThat(resumed).isEqualTo(uninterrupted.subList(3, 6));
  }

  @Test
  void run_stopRequestedDuringStepTwo_savesStepTwoAndResumesExactly() throws IOException {
    List<Double> uninterrupted = losses(trainer(yaml(dir.resolve("whole"), ""), Optional.empty()));
    Path output = dir.resolve("stopped");
    StopRequest stop = new StopRequest();
    List<Double> before = new ArrayList<>();
    Trainer.Result result = trainer(yaml(output, ""), Optional.empty()).run(report -> {
      before.add(report.loss());
      if (report.step() == 2) {
        stop.request();
      }
    }, stop);

    assertThat(result.stopped()).isTrue();
    assertThat(result.lastStep()).isEqualTo(2);
    assertThat(result.lastCheckpoint()).contains(output.resolve("checkpoints/step-000002"));
    Checkpoint.Loaded saved = Checkpoint.load(output.resolve("checkpoints"));
    assertThat(saved.state().step()).isEqualTo(2);
    List<Double> resumed = losses(trainer(yaml(dir.resolve("resumed"), ""), Optional.of(saved)));
    assertThat(before).isEqualTo(uninterrupted.subList(0, 2));
    assertThat(resumed).isEqualTo(uninterrupted.subList(2, 6));
  }

  @Test
  void run_stopRequestedDuringTheLastStep_endsAsAFinishedRun() throws IOException {
    StopRequest stop = new StopRequest();
    Trainer.Result result = trainer(yaml(dir.resolve("run"), ""), Optional.empty()).run(report -> {
      if (report.step() == 6) {
        stop.request();
      }
    }, stop);

    assertThat(result.stopped()).isFalse();
    assertThat(result.lastStep()).isEqualTo(6);
  }

  @Test
  void run_blockWithLrScaleZero_leavesItsTensorsBitIdentical() throws IOException {
    Trainer trainer = trainer(yaml(dir.resolve("frozen"), ", lr_scale: 0"), Optional.empty());
    Map<String, Tensor> before = new LinkedHashMap<>();
    for (NamedParameter p : trainer.model().uniqueParameters()) {
      if (p.name().startsWith("layers.0.")) {
        before.put(p.name(), p.tensor().clone());
      }
    }
    assertThat(before.isEmpty()).isFalse();

    losses(trainer);

    for (NamedParameter p : trainer.model().uniqueParameters()) {
      if (before.containsKey(p.name())) {
        assertThat(torch.equal(before.get(p.name()), p.tensor())).as(p.name() + " changed").isTrue();
      } else if (p.name().startsWith("layers.1.")) {
        assertThat(p.trainable()).isTrue();
      }
    }
  }

  @Test
  void run_hugeLearningRate_stopsWithDivergedAndKeepsLastGoodCheckpoint() throws IOException {
    Path output = dir.resolve("nan");
    String yaml = yaml(output, "").replace("learning_rate: 3.0e-3", "learning_rate: 1.0e30, grad_clip: 0")
        .replace("interval: 3", "interval: 1");
    Trainer trainer = trainer(yaml, Optional.empty());

    TrainingDivergedException e = catchThrowableOfType(TrainingDivergedException.class, () -> losses(trainer));
    assertThat(e).as("expected TrainingDivergedException to be thrown").isNotNull();

    assertThat(e.getMessage().matches("training stopped at step \\d: the (loss|gradient norm) is (NaN|Infinity|"
        + "-Infinity) \\(lower optimizer.learning_rate, or set optimizer.grad_clip\\)")).as(e.getMessage()).isTrue();
    Checkpoint.Loaded last = Checkpoint.load(output);
    assertThat(last.state().step()).isEqualTo(e.step() - 1);
    for (Tensor t : last.weights().values()) {
      assertThat(torch.isfinite(t).all().item_bool()).isTrue();
    }
  }

  @Test
  void save_sharedBlock_storesItsTensorsOnceWithTheSharingMap() throws IOException {
    Path output = dir.resolve("shared");
    losses(trainer(yaml(output, ""), Optional.empty()));

    Checkpoint.Loaded saved = Checkpoint.load(output);

    assertThat(saved.weights().keySet().stream().anyMatch(n -> n.startsWith("layers.3."))).isFalse();
    assertThat(saved.metadata().get("shared").contains("\"layers.3.mixer.query.weight\":\"layers.2.mixer.query.weight\""))
        .as(saved.metadata().get("shared"))
        .isTrue();
    assertThat(saved.metadata().get("format_version")).isEqualTo(Integer.toString(Checkpoint.FORMAT_VERSION));
    assertThat(Files.readString(saved.folder().resolve("config.yaml")).contains("num_layers: 4")).isTrue();
  }

  @Test
  void differences_otherWidth_namesTheKeyAndBothValues() {
    var saved = config(yaml(Path.of("x"), "")).model();
    var wanted = config(yaml(Path.of("x"), "").replace("hidden_size: 32", "hidden_size: 64")
        .replace("num_heads: 2, ffn_hidden_size: 64%s", "num_heads: 2, ffn_hidden_size: 64")).model();

    List<String> differences = ArchitectureCheck.differences(saved, wanted, BlockKindRegistry.installed());

    assertThat(differences.get(0)).isEqualTo("model.hidden_size is 32 in the checkpoint, 64 in the config");
  }

  @Test
  void run_firstMetricsLine_saysWhichKernelsRan() throws IOException {
    Path output = dir.resolve("kernels");
    String yaml = yaml(output, "").replace("eval_batches: 1", "eval_batches: 1, kernels: {adamw: off}");
    losses(trainer(yaml, Optional.empty()));

    List<String> lines = Files.readAllLines(output.resolve("metrics.jsonl"));

    assertThat(lines.get(0).endsWith(",\"kernels\":{\"adamw\":\"tensor operations (off)\","
        + "\"bf16_copies\":\"off (the run is on the CPU)\","
        + "\"loss\":\"tensor operations (the logits are not on a CUDA device (cpu))\","
        + "\"norm\":\"tensor operations (the input is not on a CUDA device (cpu))\","
        + "\"rotary\":\"tensor operations (the input is not on a CUDA device (cpu))\"}}")).as(lines.get(0)).isTrue();
    assertThat(lines.stream().skip(1).noneMatch(line -> line.contains("kernels"))).as(lines.toString()).isTrue();
  }

  @Test
  void create_bf16CopiesOnOnTheCpu_isRefusedNamingTheKeyAndTheReason() {
    String yaml = yaml(dir.resolve("copies"), "").replace("eval_batches: 1", "eval_batches: 1, kernels: "
        + "{bf16_copies: on}");

    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, () -> trainer(yaml, Optional.empty()));
    assertThat(e).as("expected IllegalArgumentException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo("training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: the run is on the "
            + "CPU; set it to auto or off");
  }

  @Test
  void create_batchNotAMultipleOfProcesses_isRefusedBeforeJoiningTheOthers() {
    String yaml = yaml(dir.resolve("shared"), "").replace("batch_size: 2", "batch_size: 3");

    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, () -> Trainer.create(config(yaml), yaml,
        data(), Optional.empty(), new DistributedLaunch(0, 2, 0, "127.0.0.1", 29500)));
    assertThat(e).as("expected IllegalArgumentException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo("training.batch_size is 3, which 2 processes cannot share; with data parallelism it must be a "
            + "multiple of the number of processes");
  }
}
