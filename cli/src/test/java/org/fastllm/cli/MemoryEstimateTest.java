package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MemoryEstimateTest {
  static final double GIB = 1024.0 * 1024 * 1024;

  @Test
  void of_theSeedManyBlocksExample_countsParametersGradientsMomentsAndActivations() {
    var config = org.fastllm.validation.load.ConfigLoader.standard().load(MainTest.MANY);
    var run = config.resolved().withRunDefaults();
    long total = config.count().total();
    long trainable = config.count().trainable();

    MemoryEstimate e = MemoryEstimate.of(config.count(), run);

    assertThat(e.parameters()).isEqualTo(4.0 * total);
    assertThat(e.gradients()).isEqualTo(4.0 * trainable);
    assertThat(e.optimizer()).isEqualTo(8.0 * trainable);
    assertThat(e.activations()).isEqualTo(4.0 * 8 * 128 * (16.0 * run.model().hiddenSize() * run.model().numLayers()
        + 3.0 * run.model().vocabSize()));
    assertThat(e.total()).isEqualTo(e.parameters() + e.gradients() + e.optimizer() + e.activations());
  }

  @Test
  void refusalOnCpu_onlyAboveThePhysicalMemory_namesBoth() {
    MemoryEstimate e = new MemoryEstimate(4 * GIB, 4 * GIB, 8 * GIB, 2 * GIB, 8, 128);

    assertThat(e.refusalOnCpu((long) (18 * GIB))).isEmpty();
    assertThat(e.refusalOnCpu((long) (16 * GIB))).hasValue("the run needs about 18 GiB (a rough estimate): "
        + "parameters 4.00 GiB (fp32), gradients 4.00 GiB, AdamW moments 8.00 GiB, activations 2.00 GiB at batch 8 x"
        + " sequence 128, more than this machine's 16 GiB of memory; make the model, the batch or the sequence "
        + "smaller, or train on a GPU");
  }

  @Test
  void physicalBytes_onLinux_isPositive() {
    assertThat(MemoryEstimate.physicalBytes().orElseThrow()).isPositive();
  }
}
