package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.OptionalInt;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.data.ByteTokenizer;
import org.fastllm.modules.data.Tokens;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;

/** The sample that ends a training run: the held-out text's first tokens and the model's greedy continuation. */
class TrainedSampleTest {
  private static final Device CPU = new Device("cpu");

  private static ConfigDocument run(boolean positions) {
    return ConfigLoader.standard().load("tiny.yaml", """
        model:
          hidden_size: 16
          vocab_size: 256
          position_embeddings: %s
          max_sequence_length: 40
          blocks:
            a: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
          block_pattern: [a]
          num_layers: 1
        training: {device: cpu, sequence_length: 32}
        """.formatted(positions)).resolved().withRunDefaults();
  }

  private static Tokens bytes(String text) {
    return Tokens.of(new ByteTokenizer().encode(text));
  }

  @Test
  void print_heldOutText_labelsItsStartAndTheGreedyContinuationAndPutsTrainingModeBack() {
    ConfigDocument run = run(false);
    torch.manual_seed(3);
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    model.train(true);
    TrainingData data = new TrainingData("test", bytes("the training part of the text"),
        bytes("held\tout \"text\" that the model continues"), 256);
    StringWriter text = new StringWriter();

    TrainedSample.print(model, CPU, run, data, new PrintWriter(text));

    assertThat(model.is_training()).as("training mode put back").isTrue();
    int[] prompt = new ByteTokenizer().encode("held\tout \"text\" ");
    int[] greedy = GenerationLoop.continuation(model, CPU, prompt, 48, OptionalInt.empty(),
        new TokenSampler(0, 0, 1, 0), id -> {});
    String[] lines = text.toString().split("\n");
    assertThat(lines).hasSize(2);
    assertThat(lines[0]).isEqualTo("sample prompt   \"held\\tout \\\"text\\\" \"   (the start of the held-out text)");
    assertThat(lines[1]).isEqualTo("sample greedy   " + TrainedSample.quoted(new ByteTokenizer().decode(greedy)));
  }

  @Test
  void print_learnedPositions_continuesOnlyUpToTheLastPosition() {
    ConfigDocument run = run(true);
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    TrainingData data = new TrainingData("test", bytes("x".repeat(20)), bytes("y".repeat(20)), 256);
    StringWriter text = new StringWriter();

    TrainedSample.print(model, CPU, run, data, new PrintWriter(text));

    String greedy = text.toString().split("\n")[1];
    assertThat(greedy).startsWith("sample greedy   \"");
    // max_sequence_length 40 less the 16 prompt tokens: at most 24 bytes, escaped at most 6 characters each
    assertThat(greedy.length() - "sample greedy   \"\"".length()).isBetween(1, 24 * 6);
  }

  @Test
  void print_tooLittleText_printsNothing() {
    ConfigDocument run = run(false);
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    StringWriter text = new StringWriter();

    TrainedSample.print(model, CPU, run, new TrainingData("test", bytes("short"), bytes(""), 256),
        new PrintWriter(text));

    assertThat(text.toString()).isEmpty();
  }

  @Test
  void quoted_controlCharactersQuotesAndBackslashes_areEscaped() {
    String raw = new String(new byte[] {'a', '\n', 'b', '\r', '\t', 0x01, 0x7f, '"', '\\'}, StandardCharsets.UTF_8)
        + "\u200b\u00e9";

    assertThat(TrainedSample.quoted(raw)).isEqualTo("\"a\\nb\\r\\t\\u0001\\u007f\\\"\\\\\\u200b\u00e9\"");
    assertThat(Arrays.stream(TrainedSample.quoted(raw).split("")).noneMatch(c -> c.charAt(0) < 0x20)).isTrue();
  }
}
