package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.fastllm.dsl.config.LrSchedule;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LearningRateScheduleTest {
  @ParameterizedTest
  @CsvSource(textBlock = """
      COSINE,   0, 0.25
      COSINE,   3, 1.0
      COSINE,   4, 1.0
      COSINE,   8, 0.55
      COSINE,  12, 0.1
      LINEAR,   8, 0.55
      LINEAR,  10, 0.325
      CONSTANT, 12, 1.0
      """)
  void at_warmupThenDecay_reachesMinimumAtLastStep(LrSchedule shape, int step, double expected) {
    LearningRateSchedule schedule = new LearningRateSchedule(1.0, 0.1, 4, shape, 13);

    assertThat(schedule.at(step)).isCloseTo(expected, within(1e-12));
  }
}
