package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.Precision;
import org.fastllm.dsl.yaml.ConfigOverrides;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.data.TokenizationProgress;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.train.Autocast;
import org.fastllm.modules.train.WindowedLoss;
import org.fastllm.validation.load.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code eval CHECKPOINT --data FILE [--format text|tokens_u16|tokens_u32] [--json] [--device auto|cpu|cuda]}: the
 * loss and perplexity of a trained model on a file, read with the run's tokenizer.
 *
 * <pre class="text">
 * $ fastllm-cli eval runs/demo --data held-out.txt
 * eval: 12,288 tokens of held-out.txt: loss 2.3456, perplexity 10.44, 5,120 tokens/s
 * </pre>
 *
 * <p><b>The loss is the mean cross-entropy over the file's non-overlapping windows of the checkpoint's
 * {@code training.sequence_length}, {@code training.batch_size} windows a batch, in eval mode: validation's loss,
 * over every window.</b>
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Report a checkpoint's loss, perplexity (exp(loss)) and tokens/s on a data file.",
        "The file is read as the run read its data (its tokenizer), cut into non-overlapping windows of "
            + "training.sequence_length, training.batch_size windows a batch; the model runs in eval mode.",
        "Exit codes: 0 done, 2 missing or damaged checkpoint, missing or bad data file, or a file shorter than one "
            + "window, 1 internal failure."})
final class EvalCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "CHECKPOINT",
      description = "A checkpoint folder, a checkpoints folder (its 'latest') or a run folder (its latest checkpoint).")
  Path checkpoint;

  @Option(names = "--data", paramLabel = "FILE", required = true,
      description = "The file to score: text, or token ids as the format says.")
  Path data;

  @Option(names = "--format", paramLabel = "FORMAT",
      description = "text, tokens_u16 or tokens_u32 (default: the run's data.format).")
  String format;

  @Option(names = "--json", description = "Print one JSON object: tokens, loss, perplexity, tokens_per_second.")
  boolean json;

  @Option(names = "--device", paramLabel = "DEVICE", description = "auto, cpu or cuda (default: the run's).")
  String device;

  @Option(names = "--dtype", paramLabel = "TYPE", description = WeightType.HELP)
  String dtype;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Optional<InitialWeights> read = RestoredModel.weights(checkpoint, err);
    if (read.isEmpty()) {
      return Main.INVALID;
    }
    InitialWeights weights = read.get();
    ConfigLoader loader = ConfigLoader.standard();
    ConfigDocument run = loader.load(new YamlTreeReader().read(weights.folder().resolve("config.yaml").toString(),
        weights.configYaml()), ConfigOverrides.parse(overrides())).resolved().withRunDefaults();
    Optional<RestoredModel.Placement> placed = RestoredModel.placement(run.training().device(), dtype, err);
    if (placed.isEmpty()) {
      return Main.INVALID;
    }
    Device on = placed.get().device();
    WindowedLoss.Result result;
    try {
      TrainingData tokens = TrainingData.load(run.data(), run.model().vocabSize(), BuiltInRun::corpus,
          TokenizationProgress.SILENT);
      Optional<LanguageModel> restored = RestoredModel.of(weights, run, on, placed.get().type(), err);
      if (restored.isEmpty()) {
        return Main.INVALID;
      }
      LanguageModel model = restored.get();
      // the precision train ran at, which its validation loss was computed at
      boolean bf16 = run.training().precision() == Precision.BF16
          || (run.training().precision() == Precision.AUTO && on.is_cuda());
      try (Autocast autocast = Autocast.bf16(on, bf16)) {
        result = WindowedLoss.over(model, tokens.train(), run.training().sequenceLength(),
            run.training().batchSize(), run.model().vocabSize(), on);
      }
    } catch (IllegalArgumentException | IllegalStateException e) {
      err.println("error: " + data + ": " + e.getMessage().replace("data.path: " + data + ": ", ""));
      return Main.INVALID;
    }
    out.println(json ? json(result) : line(result));
    out.flush();
    return Main.OK;
  }

  /** The checkpoint's run, reading the given file whole (nothing held out) with its tokenizer. */
  private List<String> overrides() {
    List<String> all = new ArrayList<>(List.of("data.path='" + data.toAbsolutePath().toString().replace("'", "''")
        + "'", "data.validation_fraction=0"));
    if (format != null) {
      all.add("data.format=" + format.toLowerCase(Locale.ROOT));
    }
    if (device != null) {
      all.add("training.device=" + device.toLowerCase(Locale.ROOT));
    }
    return all;
  }

  private String line(WindowedLoss.Result r) {
    return String.format(Locale.ROOT, "eval: %,d tokens of %s: loss %.4f, perplexity %.2f, %,.0f tokens/s",
        r.tokens(), data, r.loss(), Math.exp(r.loss()), r.tokensPerSecond());
  }

  private static String json(WindowedLoss.Result r) {
    return "{\"tokens\":" + r.tokens() + ",\"loss\":" + r.loss() + ",\"perplexity\":" + Math.exp(r.loss())
        + ",\"tokens_per_second\":" + r.tokensPerSecond() + "}";
  }
}
