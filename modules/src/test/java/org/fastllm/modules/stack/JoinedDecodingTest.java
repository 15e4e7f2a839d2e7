package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.AttentionType;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/** Prompts of different lengths decoded alone and then continued as one batch give each row its own logits. */
class JoinedDecodingTest {
  private static final long[] LENGTHS = {3, 7, 5};
  private static final int STEPS = 6;

  /**
   * Rotary GQA with a window of 4, Mamba1, discrete Mamba2, a shared Mamba2 block used twice and full GQA; with or
   * without learned positions.
   */
  private static LanguageModel hybrid(boolean positions) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("window", StackBuilderTest.attention("GQA", 4, 2, false, 4, true, 24, null));
    blocks.put("m1", StackBuilderTest.ssm(SsmVariant.MAMBA1, false, false, 24));
    blocks.put("dm2", StackBuilderTest.ssm(SsmVariant.DISCRETE_MAMBA2, false, true, 24));
    blocks.put("m2", StackBuilderTest.ssm(SsmVariant.MAMBA2, true, false, 0));
    blocks.put("full", StackBuilderTest.attention("GQA", 4, 2, false, null, true, 24, null));
    LanguageModel model = StackBuilder.installed().build(StackBuilderTest.model(blocks,
        List.of("window", "m1", "dm2", "m2", "full", "m2"), 6, false, positions, NormType.RMS_NORM));
    model.eval();
    return model;
  }

  @Test
  void joinDecoding_promptsOfDifferentLengthsThenOneRowDropped_eachRowGetsTheFullForwardLogitsOfItsSequence() {
    for (boolean positions : new boolean[] {false, true}) {
      Torch.seed(11);
      LanguageModel model = hybrid(positions);
      assertThat(model.joinsDecoding()).isTrue();
      List<Tensor> sequences = new ArrayList<>();
      for (long length : LENGTHS) {
        sequences.add(torch.randint(32, new long[] {1, length + STEPS}, new TensorOptions(torch.ScalarType.Long)));
      }
      try (NoGradGuard noGrad = new NoGradGuard()) {
        List<Decoding> rows = new ArrayList<>();
        for (int r = 0; r < LENGTHS.length; r++) {
          Decoding row = model.startDecoding(1);
          model.decodeLogits(sequences.get(r).narrow(1, 0, LENGTHS[r]), row);
          rows.add(row);
        }
        try (Decoding joined = model.joinDecoding(rows)) {
          rows.forEach(Decoding::close);
          assertThat(joined.batch()).isEqualTo(3);
          int[] live = {0, 1, 2};
          for (int t = 0; t < STEPS; t++) {
            if (t == 2) {   // row 1 is done: the others go on without it
              assertThat(joined.selectsRows()).isTrue();
              joined.keepRows(new int[] {0, 2});
              live = new int[] {0, 2};
            }
            Tensor[] next = new Tensor[live.length];
            for (int i = 0; i < live.length; i++) {
              next[i] = sequences.get(live[i]).narrow(1, LENGTHS[live[i]] + t, 1);
            }
            Tensor step = model.decodeLogits(torch.cat(new TensorVector(next), 0), joined);
            for (int i = 0; i < live.length; i++) {
              int r = live[i];
              Tensor full = model.logits(sequences.get(r)).narrow(1, LENGTHS[r] + t, 1);
              assertThat(step.narrow(0, i, 1).sub(full).abs().max().item_double())
                  .as("positions %s, row %d, step %d", positions, r, t).isLessThan(1e-5);
            }
          }
          assertThat(joined.batch()).isEqualTo(2);
          assertThat(joined.positions().seen(1)).isEqualTo(LENGTHS[2] + STEPS);
          assertThatThrownBy(joined::position).isInstanceOf(IllegalStateException.class)
              .hasMessage("the sequences have seen different numbers of positions: [9, 11]");
        }
      }
    }
  }

  /**
   * A running batch takes in new sequences, as continuous batching does: rows 0 and 1 are joined, row 0 is dropped,
   * row 2 (a prompt longer than the window) joins, then row 3 (shorter than every row) joins the three-row batch.
   */
  @Test
  void joinDecoding_aRunningBatchJoinedWithNewRows_everyRowGetsTheFullForwardLogitsOfItsSequence() {
    long[] lengths = {3, 7, 9, 2};
    int steps = 12;
    Torch.seed(13);
    LanguageModel model = hybrid(true);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      List<Tensor> sequences = new ArrayList<>();
      List<Tensor> full = new ArrayList<>();
      List<Decoding> alone = new ArrayList<>();
      for (long length : lengths) {
        Tensor sequence = torch.randint(32, new long[] {1, length + steps}, new TensorOptions(torch.ScalarType.Long));
        sequences.add(sequence);
        full.add(model.logits(sequence));
        Decoding row = model.startDecoding(1);
        model.decodeLogits(sequence.narrow(1, 0, length), row);
        alone.add(row);
      }
      Decoding running = model.joinDecoding(alone.subList(0, 2));
      List<Integer> live = new ArrayList<>(List.of(0, 1));
      int[] done = new int[lengths.length];
      for (int t = 0; t < steps; t++) {
        if (t == 4) {   // row 0 is done and row 2 takes its place
          running.keepRows(new int[] {1});
          live.remove(0);
          running = joinedWith(model, running, alone.get(2));
          live.add(2);
        }
        if (t == 7) {   // row 3 joins a batch of rows that have all seen more positions
          running = joinedWith(model, running, alone.get(3));
          live.add(3);
        }
        Tensor[] next = new Tensor[live.size()];
        for (int i = 0; i < live.size(); i++) {
          int r = live.get(i);
          next[i] = sequences.get(r).narrow(1, lengths[r] + done[r], 1);
        }
        Tensor step = model.decodeLogits(torch.cat(new TensorVector(next), 0), running);
        for (int i = 0; i < live.size(); i++) {
          int r = live.get(i);
          Tensor want = full.get(r).narrow(1, lengths[r] + done[r], 1);
          assertThat(step.narrow(0, i, 1).sub(want).abs().max().item_double())
              .as("row %d, step %d", r, t).isLessThan(1e-5);
          done[r]++;
        }
      }
      assertThat(running.batch()).isEqualTo(3);
      assertThat(running.positions().toString()).isEqualTo("[%d, %d, %d]", lengths[1] + steps, lengths[2] + 8,
          lengths[3] + 5);
      running.close();
      alone.forEach(Decoding::close);
    }
  }

  /** {@code running} with {@code added} as its last row; {@code running} is closed. */
  private static Decoding joinedWith(LanguageModel model, Decoding running, Decoding added) {
    try (running) {
      return model.joinDecoding(List.of(running, added));
    }
  }

  /** Long enough that the joined cache of the full-attention layer outgrows its buffers twice. */
  @Test
  void joinDecoding_manySteps_theJoinedCacheGrowsAndEveryRowStillGetsItsFullForwardLogits() {
    int steps = 150;
    Torch.seed(12);
    LanguageModel model = hybrid(false);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      List<Tensor> sequences = new ArrayList<>();
      List<Tensor> full = new ArrayList<>();
      List<Decoding> rows = new ArrayList<>();
      for (long length : LENGTHS) {
        Tensor sequence = torch.randint(32, new long[] {1, length + steps}, new TensorOptions(torch.ScalarType.Long));
        sequences.add(sequence);
        full.add(model.logits(sequence));
        Decoding row = model.startDecoding(1);
        model.decodeLogits(sequence.narrow(1, 0, length), row);
        rows.add(row);
      }
      try (Decoding joined = model.joinDecoding(rows)) {
        rows.forEach(Decoding::close);
        for (int t = 0; t < steps; t++) {
          Tensor[] next = new Tensor[LENGTHS.length];
          for (int r = 0; r < LENGTHS.length; r++) {
            next[r] = sequences.get(r).narrow(1, LENGTHS[r] + t, 1);
          }
          Tensor step = model.decodeLogits(torch.cat(new TensorVector(next), 0), joined);
          for (int r = 0; r < LENGTHS.length; r++) {
            Tensor want = full.get(r).narrow(1, LENGTHS[r] + t, 1);
            assertThat(step.narrow(0, r, 1).sub(want).abs().max().item_double())
                .as("row %d, step %d", r, t).isLessThan(1e-5);
          }
        }
      }
    }
  }

  @Test
  void joinsDecoding_aNonCausalAttentionLayerRecomputes_isFalseAndJoiningIsRefused() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("bidirectional", new TransformerBlockConfig(new CommonBlockKeys(false, null, null, 24, null, null, null,
        null, null, true), AttentionType.MHA, 2, null, null, false, null, false, null, false, null));
    LanguageModel model = StackBuilder.installed()
        .build(StackBuilderTest.model(blocks, List.of("bidirectional"), 1, true, false, NormType.LAYER_NORM));
    try (Decoding a = model.startDecoding(1); Decoding b = model.startDecoding(1)) {
      assertThat(model.joinsDecoding()).isFalse();
      assertThatThrownBy(() -> model.joinDecoding(List.of(a, b))).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("some layer of this model decodes by recomputing: its rows cannot be joined");
    }
  }
}
