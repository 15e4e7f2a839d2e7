package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;

class ResumeChangesTest {
  static final String RUN = """
      model:
        hidden_size: 16
        vocab_size: 256
        blocks:
          a: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
        block_pattern: [a]
        num_layers: 1
      optimizer: {learning_rate: 3.0e-4, min_learning_rate: 3.0e-5}
      training: {steps: 10, batch_size: 8, seed: 5, log_interval: 5}
      checkpoint: {interval: 5}
      """;
  final ConfigLoader loader = ConfigLoader.standard();

  private ConfigDocument run(String yaml) {
    return loader.load("run.yaml", yaml).resolved().withRunDefaults();
  }

  private List<ResumeChanges.Change> between(String then, String now) {
    return ResumeChanges.between(run(then), run(now), ConfigMapper.json(loader.kinds()));
  }

  @Test
  void between_sameRun_hasNoChanges() {
    assertThat(between(RUN, RUN)).isEmpty();
  }

  @Test
  void between_harmlessSettings_areReportedButDoNotBreakTheResume() {
    List<ResumeChanges.Change> changes = between(RUN, RUN.replace("steps: 10", "steps: 20")
        .replace("log_interval: 5", "log_interval: 1, device: cpu, kernels: {loss: off}, output_dir: elsewhere")
        .replace("interval: 5}", "interval: 2, keep: 4}"));

    assertThat(changes).extracting(ResumeChanges.Change::render).containsExactly(
        "warning: training.steps is 20, the checkpoint's run used 10",
        "warning: training.device is cpu, the checkpoint's run used auto",
        "warning: training.log_interval is 1, the checkpoint's run used 5",
        "warning: training.output_dir is elsewhere, the checkpoint's run used fastllm-run",
        "warning: training.kernels.loss is off, the checkpoint's run used auto",
        "warning: checkpoint.interval is 2, the checkpoint's run used 5",
        "warning: checkpoint.keep is 4, the checkpoint's run used 2");
    assertThat(changes).noneMatch(ResumeChanges.Change::breaksExactResume);
  }

  @Test
  void between_batchLearningRateSeedAndData_eachBreakTheResume() {
    List<ResumeChanges.Change> changes = between(RUN, RUN.replace("batch_size: 8", "batch_size: 16")
        .replace("seed: 5", "seed: 6").replace("3.0e-4", "1.0e-3")
        .replace("optimizer:", "data: {path: corpus.txt}\noptimizer:"));

    assertThat(changes).filteredOn(ResumeChanges.Change::breaksExactResume).extracting(ResumeChanges.Change::render)
        .containsExactly(
            "warning: data.path is corpus.txt, the checkpoint's run used unset",
            "warning: optimizer.learning_rate is 0.001, the checkpoint's run used 3.0E-4",
            "warning: training.batch_size is 16, the checkpoint's run used 8",
            "warning: training.seed is 6, the checkpoint's run used 5");
  }

  @Test
  void nothingLeft_targetAtOrBelowTheCheckpointStep_isRefusedNamingBoth() {
    assertThat(ResumeChanges.nothingLeft(10, 21, "runs/x/checkpoints/step-000021")).hasValue("training.steps is 10, "
        + "but checkpoint runs/x/checkpoints/step-000021 is at step 21: nothing left to train; set training.steps "
        + "above 21");
    assertThat(ResumeChanges.nothingLeft(21, 21, "c")).isPresent();
    assertThat(ResumeChanges.nothingLeft(22, 21, "c")).isEmpty();
  }
}
