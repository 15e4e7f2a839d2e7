package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.fastllm.dsl.config.LrSchedule;
import org.junit.jupiter.api.Test;
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

  @ParameterizedTest
  @CsvSource(textBlock = """
      COSINE, 300, 800
      LINEAR, 300, 800
      COSINE, 399, 1000
      COSINE, 150, 250
      LINEAR, 50, 401
      """)
  void resumedWith_moreSteps_continuesAtTheRateOfTheResumeStepAndDecaysToTheMinimum(LrSchedule shape, int resumeStep,
      int newTotal) {
    LearningRateSchedule saved = new LearningRateSchedule(3e-4, 3e-5, 20, shape, 400);

    ScheduleSegment segment = saved.resumedWith(resumeStep, newTotal);
    LearningRateSchedule resumed = new LearningRateSchedule(3e-4, 3e-5, 20, shape, newTotal, segment);

    assertThat(resumed.at(resumeStep)).isCloseTo(saved.at(resumeStep), within(1e-12));
    for (int step = resumeStep + 1; step < newTotal; step++) {
      assertThat(resumed.at(step)).isLessThanOrEqualTo(resumed.at(step - 1));
    }
    assertThat(resumed.at(newTotal - 1)).isCloseTo(3e-5, within(1e-12));
  }

  @Test
  void resumedWith_theSameSteps_keepsTheSavedSegment() {
    LearningRateSchedule longer = new LearningRateSchedule(3e-4, 3e-5, 20, LrSchedule.COSINE, 800,
        new ScheduleSegment(300, 2e-4, 800));

    assertThat(longer.resumedWith(500, 800)).isEqualTo(new ScheduleSegment(300, 2e-4, 800));
  }

  @Test
  void resumedWith_withinTheWarmup_followsTheConfiguredScheduleOverTheNewTotal() {
    LearningRateSchedule saved = new LearningRateSchedule(3e-4, 3e-5, 20, LrSchedule.COSINE, 400);

    assertThat(saved.resumedWith(10, 800)).isEqualTo(ScheduleSegment.whole(800));
  }

  @Test
  void resumedWith_twice_startsTheSecondSegmentAtTheFirstSegmentsRate() {
    LearningRateSchedule first = new LearningRateSchedule(3e-4, 3e-5, 20, LrSchedule.COSINE, 400);
    LearningRateSchedule second = new LearningRateSchedule(3e-4, 3e-5, 20, LrSchedule.COSINE, 800,
        first.resumedWith(300, 800));

    LearningRateSchedule third = new LearningRateSchedule(3e-4, 3e-5, 20, LrSchedule.COSINE, 1200,
        second.resumedWith(600, 1200));

    assertThat(third.at(600)).isCloseTo(second.at(600), within(1e-12));
    assertThat(third.at(1199)).isCloseTo(3e-5, within(1e-12));
  }
}
