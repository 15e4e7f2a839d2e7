package org.fastllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DeviceChoice;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.data.Tokenizer;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.validation.load.ConfigLoader;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code generate CHECKPOINT (--prompt TEXT | --prompt-file FILE) [--batch-size B] [--max-new-tokens N]
 * [--temperature T] [--top-k K] [--top-p P] [--seed S] [--device D] [--dtype float32|bfloat16]}: continues prompts
 * with a trained model; a single prompt is printed token by token as each is chosen.
 *
 * <pre class="text">fastllm-cli generate runs/tiny --prompt "Once upon a time" --temperature 0</pre>
 *
 * <p><b>The prompts of a file, one a line, are continued B at a time as one batch</b> (each row at its own
 * positions, so that a prompt gets the continuation it would get alone); as soon as one stops, the next prompt
 * waiting takes its place in the batch. Each is printed, in the file's order, under
 * a {@code ==> FILE:LINE <==} line as soon as it and those before it are done. Line {@code n} draws with seed
 * {@code S + n - 1}. The tokenizer is the run's ({@code data.tokenizer}); a continuation stops after N new tokens
 * or at the tokenizer's end-of-text token.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Continue a prompt with the model of a checkpoint, a run folder or an imported-model folder.")
final class GenerateCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "CHECKPOINT",
      description = "A checkpoint folder, a run folder (its latest checkpoint) or an imported-model folder.")
  Path checkpoint;

  @ArgGroup(exclusive = true, multiplicity = "1")
  PromptSource source;

  static final class PromptSource {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "The text to continue.")
    String text;

    @Option(names = "--prompt-file", paramLabel = "FILE", description = "A UTF-8 file of prompts, one a line.")
    Path file;
  }

  @Option(names = "--batch-size", paramLabel = "B", defaultValue = "16",
      description = "Prompts of a --prompt-file continued together (default: ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--max-new-tokens", paramLabel = "N", defaultValue = "64",
      description = "Tokens to add to each prompt (default: ${DEFAULT-VALUE}).")
  int maxNewTokens;

  @Option(names = "--temperature", paramLabel = "T", defaultValue = "1.0",
      description = "Softmax temperature; 0 picks the most likely token (default: ${DEFAULT-VALUE}).")
  double temperature;

  @Option(names = "--top-k", paramLabel = "K", defaultValue = "0",
      description = "Draw among the K most likely tokens only; 0: all (default: ${DEFAULT-VALUE}).")
  int topK;

  @Option(names = "--top-p", paramLabel = "P", defaultValue = "1.0",
      description = "Draw among the most likely tokens whose probability reaches P (default: ${DEFAULT-VALUE}).")
  double topP;

  @Option(names = "--seed", paramLabel = "S", defaultValue = "0",
      description = "Seed of the draws: the same seed gives the same text; line n of a --prompt-file draws with "
          + "S + n - 1 (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--device", paramLabel = "DEVICE",
      description = "auto, cpu or cuda (default: the run's training.device).")
  String device;

  @Option(names = "--dtype", paramLabel = "TYPE", description = WeightType.HELP)
  String dtype;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String usage = usageProblem();
    if (usage != null) {
      err.println("error: " + usage);
      return Main.INVALID;
    }
    Optional<InitialWeights> read = RestoredModel.weights(checkpoint, err);
    if (read.isEmpty()) {
      return Main.INVALID;
    }
    InitialWeights weights = read.get();
    ConfigLoader loader = ConfigLoader.standard();
    ConfigDocument run = loader.load(weights.folder().resolve("config.yaml").toString(), weights.configYaml())
        .resolved().withRunDefaults();
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.named(run.data().tokenizer());
    } catch (IllegalArgumentException | IOException e) {
      err.println("error: " + weights.folder().resolve("config.yaml") + ": " + e.getMessage());
      return Main.INVALID;
    }
    List<String> prompts = new ArrayList<>();
    List<int[]> encoded = new ArrayList<>();
    String refused = readPrompts(tokenizer, run.model().withDefaults().config(), prompts, encoded);
    if (refused != null) {
      err.println("error: " + refused);
      return Main.INVALID;
    }
    Optional<RestoredModel.Placement> placed = RestoredModel.placement(device == null ? run.training().device()
        : DeviceChoice.valueOf(device.toUpperCase(Locale.ROOT)), dtype, err);
    if (placed.isEmpty()) {
      return Main.INVALID;
    }
    Device on = placed.get().device();
    Optional<LanguageModel> restored = RestoredModel.of(weights, run, on, placed.get().type(), err);
    if (restored.isEmpty()) {
      return Main.INVALID;
    }
    LanguageModel model = restored.get();
    RecomputeWarning.of(model).ifPresent(err::println);
    if (source.text != null) {
      out.print(source.text);
      IncrementalText text = new IncrementalText(tokenizer, out);
      GenerationLoop.continuation(model, on, encoded.get(0), maxNewTokens, tokenizer.endOfText(),
          new TokenSampler(temperature, topK, topP, seed), text::add);
      text.finish();
    } else {
      continueFile(model, on, tokenizer, prompts, encoded, out);
    }
    out.flush();
    return Main.OK;
  }

  /** The prompts of the file, {@code --batch-size} at a time, each printed under its line's name in order. */
  private void continueFile(LanguageModel model, Device on, Tokenizer tokenizer, List<String> prompts,
      List<int[]> encoded, PrintWriter out) {
    InOrder printer = new InOrder((line, ids) -> {
      out.println((line == 0 ? "" : "\n") + "==> " + source.file + ":" + (line + 1) + " <==");
      out.println(prompts.get(line) + tokenizer.decode(ids));
      out.flush();
    });
    List<TokenSampler> samplers = new ArrayList<>();
    for (int line = 0; line < prompts.size(); line++) {
      samplers.add(new TokenSampler(temperature, topK, topP, seed + line));
    }
    BatchGeneration.continuations(model, on, encoded, batchSize, maxNewTokens, tokenizer.endOfText(), samplers,
        printer::finished, (rows, waiting) -> {});
  }

  private String usageProblem() {
    if (maxNewTokens < 1) {
      return "--max-new-tokens " + maxNewTokens + ": must be at least 1";
    }
    if (batchSize < 1) {
      return "--batch-size " + batchSize + ": must be at least 1";
    }
    if (temperature < 0 || !Double.isFinite(temperature)) {
      return "--temperature " + temperature + ": must be 0 (greedy) or more";
    }
    if (topK < 0) {
      return "--top-k " + topK + ": must be 0 (no limit) or more";
    }
    if (!(topP > 0 && topP <= 1)) {
      return "--top-p " + topP + ": must be more than 0 and at most 1";
    }
    if (device != null && !List.of("auto", "cpu", "cuda").contains(device.toLowerCase(Locale.ROOT))) {
      return "--device " + device + ": must be auto, cpu or cuda";
    }
    if (dtype != null && WeightType.named(dtype) == null) {
      return "--dtype " + dtype + ": must be float32 or bfloat16";
    }
    return null;
  }

  /** Fills the prompts and their ids; returns why one is refused, or null. */
  private String readPrompts(Tokenizer tokenizer, ModelConfig model, List<String> prompts, List<int[]> encoded)
      throws IOException {
    List<String> where = new ArrayList<>();
    if (source.text != null) {
      prompts.add(source.text);
      where.add("--prompt");
    } else {
      if (!Files.isRegularFile(source.file)) {
        return "--prompt-file " + source.file + ": no such file";
      }
      List<String> lines = Files.readAllLines(source.file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        prompts.add(lines.get(i));
        where.add(source.file + ":" + (i + 1));
      }
      if (lines.isEmpty()) {
        return "--prompt-file " + source.file + ": holds no prompt (one a line)";
      }
    }
    for (int i = 0; i < prompts.size(); i++) {
      int[] ids = tokenizer.encode(prompts.get(i));
      if (ids.length == 0) {
        return where.get(i) + ": the prompt is empty — give at least one token of text";
      }
      if (model.positionEmbeddings() && ids.length + maxNewTokens > model.maxSequenceLength()) {
        return where.get(i) + ": the prompt's " + ids.length + " tokens and --max-new-tokens " + maxNewTokens
            + " make " + (ids.length + maxNewTokens) + " positions, more than model.max_sequence_length "
            + model.maxSequenceLength() + " (the model's learned position embeddings end there)";
      }
      encoded.add(ids);
    }
    return null;
  }
}
