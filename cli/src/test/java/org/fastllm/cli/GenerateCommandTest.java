package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.data.ByteTokenizer;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code generate}: one tiny run with learned position embeddings is trained once; each case continues prompts. */
class GenerateCommandTest {
  private static final int MAX_SEQUENCE_LENGTH = 64;
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path source;

  @BeforeAll
  static void trainOnce() {
    source = shared.resolve("source");
    MainTest.Run r = TrainCommandIT.train(source, Stream.concat(Stream.of(TrainCommandIT.SMALL), Stream.of(
        "training.steps=2", "model.position_embeddings=true", "model.max_sequence_length=" + MAX_SEQUENCE_LENGTH))
        .toArray(String[]::new));
    assertThat(r.exit()).as(r.err()).isZero();
  }

  private static MainTest.Run generate(String... args) {
    return MainTest.run(Stream.concat(Stream.of("generate", source.toString()), Stream.of(args))
        .toArray(String[]::new));
  }

  @Test
  void greedy_twice_printsThePromptAndTheSameContinuation() {
    MainTest.Run first = generate("--prompt", "the river ", "--temperature", "0", "--max-new-tokens", "12");
    MainTest.Run second = generate("--prompt", "the river ", "--temperature", "0", "--max-new-tokens", "12");

    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(first.out()).startsWith("the river ").endsWith("\n");
    assertThat(second.out()).isEqualTo(first.out());
  }

  @Test
  void greedy_tokensAreTheArgmaxOfTheWholeSequencesLogitsAtEachStep() {
    InitialWeights weights = InitialWeights.read(source);
    ConfigDocument run = ConfigLoader.standard().load("config.yaml", weights.configYaml()).resolved()
        .withRunDefaults();
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    weights.copyInto(model);
    int[] prompt = new ByteTokenizer().encode("once upon");
    Device cpu = new Device("cpu");

    int[] decoded = GenerationLoop.continuation(model, cpu, prompt, 8, OptionalInt.empty(), new TokenSampler(0, 0, 1,
        0), id -> {});

    int[] sequence = prompt;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int step = 0; step < 8; step++) {
        try (PointerScope scope = new PointerScope()) {
          Tensor logits = model.logits(GenerationLoop.tokens(sequence, cpu));
          sequence = Arrays.copyOf(sequence, sequence.length + 1);
          sequence[sequence.length - 1] = TokenSampler.argmax(GenerationLoop.lastPosition(logits));
        }
      }
    }
    assertThat(decoded).containsExactly(Arrays.copyOfRange(sequence, prompt.length, sequence.length));
    int[] stopped = GenerationLoop.continuation(model, cpu, prompt, 8, OptionalInt.of(decoded[2]),
        new TokenSampler(0, 0, 1, 0), id -> {});
    int firstStop = Arrays.stream(decoded).boxed().toList().indexOf(decoded[2]);
    assertThat(stopped).as("ends before the end-of-text id").containsExactly(Arrays.copyOf(decoded, firstStop));
  }

  @Test
  void maxNewTokens_bytes_printsThePromptAndAtMostThatManyCharacters() {
    MainTest.Run r = generate("--prompt", "abc", "--max-new-tokens", "5", "--seed", "3");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("abc").endsWith("\n");
    String continuation = r.out().substring(3, r.out().length() - 1);
    assertThat(continuation.codePointCount(0, continuation.length())).isBetween(1, 5);
  }

  @Test
  void seed_theSameSeedDrawsTheSameText_anotherSeedOtherText() {
    MainTest.Run first = generate("--prompt", "a", "--max-new-tokens", "24", "--seed", "11");
    MainTest.Run again = generate("--prompt", "a", "--max-new-tokens", "24", "--seed", "11");
    MainTest.Run other = generate("--prompt", "a", "--max-new-tokens", "24", "--seed", "12");

    assertThat(first.exit()).as(first.err()).isZero();
    assertThat(again.out()).isEqualTo(first.out());
    assertThat(other.out()).isNotEqualTo(first.out());
  }

  @Test
  void promptFile_eachLineIsPrintedInOrderUnderItsName_withTheContinuationItGetsAlone() throws IOException {
    List<String> lines = List.of("one", "the river flows", "tw", "once upon a time there was");
    Path prompts = Files.write(dir.resolve("prompts.txt"), lines);

    for (String batch : new String[] {"16", "3", "2", "1"}) {
      MainTest.Run r = generate("--prompt-file", prompts.toString(), "--max-new-tokens", "10", "--temperature", "0",
          "--batch-size", batch);

      assertThat(r.exit()).as(r.err()).isZero();
      StringBuilder expected = new StringBuilder();
      for (int i = 0; i < lines.size(); i++) {
        MainTest.Run alone = generate("--prompt", lines.get(i), "--max-new-tokens", "10", "--temperature", "0");
        expected.append(i == 0 ? "" : "\n").append("==> ").append(prompts).append(':').append(i + 1)
            .append(" <==\n").append(alone.out());
      }
      assertThat(r.out()).as("--batch-size " + batch).isEqualTo(expected.toString());
    }
  }

  @Test
  void promptFile_seeded_lineNDrawsAsThatPromptAloneWithSeedSPlusNMinusOne() throws IOException {
    Path prompts = Files.write(dir.resolve("prompts.txt"), List.of("a", "the", "abc"));

    MainTest.Run r = generate("--prompt-file", prompts.toString(), "--max-new-tokens", "16", "--seed", "5");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("==> " + prompts + ":3 <==\n"
        + generate("--prompt", "abc", "--max-new-tokens", "16", "--seed", "7").out());
  }

  @Test
  void batchSize_belowOne_isRefused() {
    MainTest.Run r = generate("--prompt", "a", "--batch-size", "0");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: --batch-size 0: must be at least 1\n");
  }

  @Test
  void dtype_unknown_isRefusedNamingTheTypesAllowed() {
    MainTest.Run r = generate("--prompt", "a", "--dtype", "float16");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: --dtype float16: must be float32 or bfloat16\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void dtype_bfloat16OnTheCpu_warnsAndContinuesThePrompt() {
    MainTest.Run r = generate("--prompt", "the river ", "--temperature", "0", "--max-new-tokens", "6", "--dtype",
        "bfloat16", "--device", "cpu");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).startsWith("warning: --dtype bfloat16 on the CPU: about 26 times slower than float32");
    assertThat(r.out()).startsWith("the river ").endsWith("\n");
  }

  @Test
  void deviceCuda_onAHostWithoutCuda_isRefusedSayingSo() {
    assumeThat(org.bytedeco.pytorch.global.torch.cuda_is_available()).as("a host without CUDA").isFalse();

    MainTest.Run r = generate("--prompt", "a", "--max-new-tokens", "5", "--device", "cuda");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: training.device is cuda, but libtorch sees no CUDA device\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void tooLongPrompt_isRefusedNamingTheLengths() {
    MainTest.Run r = generate("--prompt", "x".repeat(60), "--max-new-tokens", "5");

    assertThat(r.exit()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: --prompt: the prompt's 60 tokens and --max-new-tokens 5 make 65 positions, "
        + "more than model.max_sequence_length 64 (the model's learned position embeddings end there)\n");
    assertThat(r.out()).isEmpty();
  }

  @Test
  void emptyPrompt_andBothOrNeitherSource_areRefused() {
    assertThat(generate("--prompt", "").err()).isEqualTo("error: --prompt: the prompt is empty — give at least one "
        + "token of text\n");
    assertThat(generate("--prompt", "").exit()).isEqualTo(Main.INVALID);
    assertThat(generate("--prompt", "a", "--prompt-file", "p.txt").exit()).isEqualTo(Main.INVALID);
    assertThat(generate().exit()).isEqualTo(Main.INVALID);
  }
}
