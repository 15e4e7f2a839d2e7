package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.TrainState;
import org.fastllm.modules.optim.LearningRateSchedule;
import org.fastllm.modules.optim.ScheduleSegment;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;

class ScheduleContinuationTest {
  static final String SAVED = """
      model:
        hidden_size: 16
        vocab_size: 256
        blocks:
          a: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
        block_pattern: [a]
        num_layers: 1
      optimizer: {learning_rate: 3.0e-4, min_learning_rate: 3.0e-5, warmup_steps: 20}
      training: {steps: 400, batch_size: 2, sequence_length: 8, device: cpu}
      """;

  private static OptimizerConfig optimizer() {
    return ConfigLoader.standard().load("run.yaml", SAVED).resolved().withRunDefaults().optimizer();
  }

  private static TrainState at(long step, ScheduleSegment segment) {
    return new TrainState(Checkpoint.FORMAT_VERSION, step, step, 1, null, null, 1, segment);
  }

  @Test
  void of_aCheckpointWithoutASegment_continuesTheScheduleOfItsSavedSteps() {
    ScheduleContinuation continuation = ScheduleContinuation.of(optimizer(), at(300, null), SAVED, 800);

    double saved = new LearningRateSchedule(optimizer(), 400).at(300);
    assertThat(continuation.segment().startStep()).isEqualTo(300);
    assertThat(continuation.segment().startRate()).isCloseTo(saved, within(1e-15));
    assertThat(continuation.changed()).hasValueSatisfying(line -> assertThat(line)
        .startsWith("resume: training.steps 400 -> 800; the learning rate continues from 0.0000")
        .endsWith(" at step 300 and decays to 0.00003 by step 800"));
  }

  @Test
  void of_theSameSteps_keepsTheStoredSegmentAndSaysNothing() {
    ScheduleSegment stored = new ScheduleSegment(300, 5e-5, 800);

    ScheduleContinuation continuation = ScheduleContinuation.of(optimizer(), at(500, stored), SAVED, 800);

    assertThat(continuation.segment()).isEqualTo(stored);
    assertThat(continuation.changed()).isEmpty();
  }
}
