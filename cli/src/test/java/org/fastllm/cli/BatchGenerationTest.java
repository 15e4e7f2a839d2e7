package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.data.ByteTokenizer;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Prompts of different lengths continued as one batch get, each, the continuation they get alone: on a model of
 * rotary GQA attention with a window of 4 positions, a Mamba1 block and rotary GQA over the whole context.
 */
class BatchGenerationTest {
  private static final Device CPU = new Device("cpu");
  private static final List<String> PROMPTS = List.of("the river", "a", "once upon a time there", "xyz");
  private static LanguageModel model;
  private static List<int[]> prompts;

  @BeforeAll
  static void build() {
    ConfigDocument run = ConfigLoader.standard().load("hybrid.yaml", """
        model:
          hidden_size: 32
          vocab_size: 256
          blocks:
            window: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, sliding_window: true,
                     window_size: 4, ffn_hidden_size: 64}
            mamba: {kind: ssm, variant: mamba1, ffn_hidden_size: 64}
            full: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, ffn_hidden_size: 64}
          block_pattern: [window, mamba, full]
          num_layers: 3
        training: {device: cpu}
        """).resolved().withRunDefaults();
    torch.manual_seed(21);
    model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    prompts = PROMPTS.stream().map(p -> new ByteTokenizer().encode(p)).toList();
  }

  private static List<int[]> alone(double temperature, OptionalInt endOfText) {
    List<int[]> each = new ArrayList<>();
    for (int r = 0; r < prompts.size(); r++) {
      each.add(GenerationLoop.continuation(model, CPU, prompts.get(r), 12, endOfText,
          new TokenSampler(temperature, 0, 1, 40 + r), id -> {}));
    }
    return each;
  }

  private static List<int[]> together(double temperature, OptionalInt endOfText, List<Integer> finishOrder) {
    List<TokenSampler> samplers = new ArrayList<>();
    for (int r = 0; r < prompts.size(); r++) {
      samplers.add(new TokenSampler(temperature, 0, 1, 40 + r));
    }
    return BatchGeneration.continuations(model, CPU, prompts, 12, endOfText, samplers,
        (row, ids) -> finishOrder.add(row));
  }

  @Test
  void continuations_greedy_eachPromptGetsExactlyItsContinuationAlone() {
    List<int[]> alone = alone(0, OptionalInt.empty());
    List<Integer> finished = new ArrayList<>();

    List<int[]> together = together(0, OptionalInt.empty(), finished);

    assertThat(model.joinsDecoding()).isTrue();
    for (int r = 0; r < prompts.size(); r++) {
      assertThat(together.get(r)).as(PROMPTS.get(r)).hasSize(12).containsExactly(alone.get(r));
    }
    assertThat(finished).containsExactlyInAnyOrder(0, 1, 2, 3);
  }

  @Test
  void continuations_aLayerThatRecomputes_continuesThePromptsOneAfterAnotherToTheSameTokens() {
    ConfigDocument run = ConfigLoader.standard().load("bidirectional.yaml", """
        model:
          hidden_size: 16
          vocab_size: 256
          blocks:
            both_ways: {kind: transformer, num_heads: 2, causal: false, ffn_hidden_size: 32}
          block_pattern: [both_ways]
          num_layers: 1
        training: {device: cpu}
        """).resolved().withRunDefaults();
    LanguageModel recomputing = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    List<TokenSampler> samplers = List.of(new TokenSampler(0, 0, 1, 0), new TokenSampler(0, 0, 1, 0));
    List<Integer> finished = new ArrayList<>();

    List<int[]> together = BatchGeneration.continuations(recomputing, CPU, prompts.subList(0, 2), 5,
        OptionalInt.empty(), samplers, (row, ids) -> finished.add(row));

    assertThat(recomputing.joinsDecoding()).isFalse();
    assertThat(finished).containsExactly(0, 1);
    for (int r = 0; r < 2; r++) {
      assertThat(together.get(r)).containsExactly(GenerationLoop.continuation(recomputing, CPU, prompts.get(r), 5,
          OptionalInt.empty(), new TokenSampler(0, 0, 1, 0), id -> {}));
    }
  }

  @Test
  void continuations_seededDraws_eachRowDrawsAsItsPromptAloneWithItsSampler() {
    List<int[]> alone = alone(1.0, OptionalInt.empty());

    List<int[]> together = together(1.0, OptionalInt.empty(), new ArrayList<>());

    for (int r = 0; r < prompts.size(); r++) {
      assertThat(together.get(r)).as(PROMPTS.get(r)).containsExactly(alone.get(r));
    }
  }

  /** A token of the first prompt's free continuation that some other one lacks, and that other prompt. */
  private static int[] endAndOneGoingOn() {
    List<int[]> free = alone(0, OptionalInt.empty());
    for (int id : free.get(0)) {
      for (int r = 1; r < prompts.size(); r++) {
        if (Arrays.stream(free.get(r)).noneMatch(other -> other == id)) {
          return new int[] {id, r};
        }
      }
    }
    return new int[] {-1, -1};
  }

  @Test
  void continuations_aRowReachingEndOfText_stopsThereWhileTheOthersGoOn() {
    int[] found = endAndOneGoingOn();
    int end = found[0];
    int goesOn = found[1];
    assertThat(end).as("a token of the first continuation that another one lacks").isNotNegative();
    List<int[]> alone = alone(0, OptionalInt.of(end));
    List<Integer> finished = new ArrayList<>();

    List<int[]> together = together(0, OptionalInt.of(end), finished);

    assertThat(together.get(0)).hasSizeLessThan(12).doesNotContain(end);
    assertThat(together.get(goesOn)).hasSize(12);
    for (int r = 0; r < prompts.size(); r++) {
      assertThat(together.get(r)).as(PROMPTS.get(r)).containsExactly(alone.get(r));
    }
    assertThat(finished.indexOf(0)).as("finish order %s", finished).isLessThan(finished.indexOf(goesOn));
  }

  @Test
  void continuations_morePromptsThanTheBatch_theNextPromptTakesAStoppedRowsPlaceAndEachGetsItsTokensAlone() {
    int end = endAndOneGoingOn()[0];
    assertThat(end).as("a token of the first continuation that another one lacks").isNotNegative();
    List<int[]> alone = alone(0, OptionalInt.of(end));
    List<TokenSampler> samplers = new ArrayList<>();
    for (int r = 0; r < prompts.size(); r++) {
      samplers.add(new TokenSampler(0, 0, 1, 40 + r));
    }
    List<int[]> steps = new ArrayList<>();   // rows decoded, prompts waiting
    List<Integer> finished = new ArrayList<>();

    List<int[]> together = BatchGeneration.continuations(model, CPU, prompts, 2, 12, OptionalInt.of(end), samplers,
        (row, ids) -> finished.add(row), (rows, waiting) -> steps.add(new int[] {rows, waiting}));

    for (int r = 0; r < prompts.size(); r++) {
      assertThat(together.get(r)).as(PROMPTS.get(r)).containsExactly(alone.get(r));
    }
    assertThat(finished).containsExactlyInAnyOrder(0, 1, 2, 3);
    assertThat(alone.get(0)).as("the first prompt stops early").hasSizeLessThan(12);
    assertThat(steps).as("rows and prompts waiting at each step").allSatisfy(step -> {
      assertThat(step[0]).isBetween(1, 2);
      if (step[1] > 0) {
        assertThat(step[0]).as("a batch while prompts wait").isEqualTo(2);
      }
    });
  }
}
