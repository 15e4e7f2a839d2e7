package org.fastllm.modules.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BatchShareTest {
  static final String SIX_FOR_FOUR = "training.batch_size is 6, which 4 processes cannot share; with data "
      + "parallelism it must be a multiple of the number of processes";

  @Test
  void perProcess_multiple_isTheShare() {
    assertThat(BatchShare.perProcess(8, 2)).isEqualTo(4);
    assertThat(BatchShare.perProcess(8, 1)).isEqualTo(8);
    assertThat(BatchShare.problem(8, 8)).isEmpty();
  }

  @Test
  void perProcess_notAMultiple_namesBothNumbersAndTheRule() {
    assertThatThrownBy(() -> BatchShare.perProcess(6, 4)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage(SIX_FOR_FOUR);
    assertThat(BatchShare.problem(6, 4)).contains(SIX_FOR_FOUR);
  }
}
