package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
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

  /** Three layers of an 8-head and a 4-head transformer block, alternating; the 8-head block takes the given path. */
  private static LoadedConfig attention(boolean flash, String precision, int batch) {
    return ConfigLoader.standard().load("attention.yaml", """
        model:
          hidden_size: 64
          vocab_size: 256
          blocks:
            a: {kind: transformer, num_heads: 8, use_flash_attention: %s}
            b: {kind: transformer, num_heads: 4}
          block_pattern: [a, b]
          num_layers: 3
        training: {batch_size: %d, sequence_length: 96, precision: %s, device: cpu}
        """.formatted(flash, batch, precision));
  }

  private static MemoryEstimate estimate(LoadedConfig c, int processes) {
    return MemoryEstimate.of(c.count(), c.resolved().withRunDefaults(), processes);
  }

  @Test
  void of_explicitAttention_addsBatchHeadsSequenceSquaredPerLayerAtTheActivationDtype() {
    MemoryEstimate flash = estimate(attention(true, "fp32", 4), 1);
    MemoryEstimate explicit = estimate(attention(false, "fp32", 4), 1);
    MemoryEstimate explicitBf16 = estimate(attention(false, "bf16", 4), 1);
    MemoryEstimate flashBf16 = estimate(attention(true, "bf16", 4), 1);

    // block a is at layers 0 and 2: two layers of 8 heads, fp32 4 bytes, bf16 2
    assertThat(explicit.activations() - flash.activations()).isEqualTo(4.0 * 8 * 96 * 96 * 2 * 4);
    assertThat(explicitBf16.activations() - flashBf16.activations()).isEqualTo(4.0 * 8 * 96 * 96 * 2 * 2);
    assertThat(explicit.parameters()).isEqualTo(flash.parameters());
    assertThat(explicit.total() - flash.total()).isEqualTo(explicit.activations() - flash.activations());
  }

  @Test
  void of_perProcess_holdsAFullReplicaAndItsShareOfTheBatch() {
    MemoryEstimate whole = estimate(attention(false, "fp32", 8), 1);
    MemoryEstimate half = estimate(attention(false, "fp32", 8), 2);
    MemoryEstimate batchOfFour = estimate(attention(false, "fp32", 4), 1);

    assertThat(half.batch()).isEqualTo(4);
    assertThat(half.parameters()).isEqualTo(whole.parameters());
    assertThat(half.optimizer()).isEqualTo(whole.optimizer());
    assertThat(half.activations()).isEqualTo(batchOfFour.activations()).isLessThan(whole.activations());
  }

  @Test
  void refusalOnCuda_aRunOf10GibAgainst8GibFree_isRefusedNamingBoth() {
    MemoryEstimate e = new MemoryEstimate(2 * GIB, 2 * GIB, 4 * GIB, 2 * GIB, 8, 128);

    assertThat(e.refusalOnCuda((long) (10 * GIB), (long) (80 * GIB))).isEmpty();
    assertThat(e.refusalOnCuda((long) (8 * GIB), (long) (80 * GIB))).hasValueSatisfying(m -> assertThat(m)
        .startsWith("the run needs about 10 GiB (a rough estimate): parameters 2.00 GiB (fp32)")
        .contains("per process, more than the GPU's 8.00 GiB free (of 80 GiB)"));
  }

  @Test
  void refusalOnCpu_localProcessesOfNproc_addUpAgainstTheMachinesMemory() {
    MemoryEstimate one = new MemoryEstimate(2 * GIB, 2 * GIB, 4 * GIB, 2 * GIB, 8, 128);

    assertThat(one.refusalOnCpu((long) (16 * GIB), 1)).isEmpty();
    assertThat(one.refusalOnCpu((long) (16 * GIB), 2)).hasValueSatisfying(m -> assertThat(m)
        .startsWith("the 2 processes of --nproc need about 20 GiB (a rough estimate): parameters 4.00 GiB")
        .contains("at batch 8 x sequence 128 each, more than this machine's 16 GiB of memory", "use fewer processes"));
  }

  @Test
  void physicalBytes_onLinux_isPositive() {
    assertThat(MemoryEstimate.physicalBytes().orElseThrow()).isPositive();
  }
}
