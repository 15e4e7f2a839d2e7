package org.fastllm.modules.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Check tool, not a test: the next-token logits of a model folder (an imported model, a checkpoint or a run folder),
 * float32 on the CPU, for the token ids of a text file, written as tensor {@code logits} {@code [b, t, vocab]} of a
 * safetensors file that Python's {@code safetensors} reads. bench/gpu/interop.sh compares them with transformers'.
 *
 * <pre class="text">{@code
 * run-gpu.sh org.fastllm.modules.bench.LogitsDump MODEL_DIR TOKENS.txt LOGITS.safetensors
 * }</pre>
 *
 * <p><b>The token file holds one sequence a line, ids separated by spaces; every line has the same length.</b>
 */
public final class LogitsDump {
  private LogitsDump() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: LogitsDump MODEL_DIR TOKENS.txt LOGITS.safetensors");
      System.exit(2);
    }
    exitOnUserError(() -> {
      long[][] tokens = readTokens(Path.of(args[1]));
      write(Path.of(args[0]), tokens, Path.of(args[2]));
      System.out.println(args[2] + ": logits of " + tokens.length + " x " + tokens[0].length + " tokens");
    });
  }

  /** A check tool's work, which reads files. */
  interface Work {
    void run() throws IOException;
  }

  /**
   * Runs {@code work}; a user's error (a bad token file, a folder whose weights do not fit its config, a config that
   * does not validate, a missing file) is printed as one line and the process exits with 2.
   */
  static void exitOnUserError(Work work) throws IOException {
    try {
      work.run();
    } catch (IllegalArgumentException | IllegalStateException | InvalidConfigException | CheckpointException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    } catch (NoSuchFileException e) {
      System.err.println("error: " + e.getFile() + ": no such file");
      System.exit(2);
    }
  }

  /** The logits of {@code folder}'s model for {@code tokens}, written to {@code out}. */
  static void write(Path folder, long[][] tokens, Path out) throws IOException {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      LanguageModel model = load(folder);
      model.eval();
      long[] flat = Arrays.stream(tokens).flatMapToLong(Arrays::stream).toArray();
      Tensor ids = torch.tensor(flat).reshape(tokens.length, tokens[0].length);
      Tensor logits = model.logits(ids).to(torch.ScalarType.Float).contiguous();
      Safetensors.write(out, Map.of("logits", logits), Map.of("format", "pt"));
    }
  }

  /** The model of {@code folder}, built from its config.yaml with every tensor taken from its weights. */
  static LanguageModel load(Path folder) {
    InitialWeights weights = InitialWeights.read(folder);
    LoadedConfig config = ConfigLoader.standard().load(weights.folder().resolve("config.yaml").toString(),
        weights.configYaml());
    LanguageModel model = StackBuilder.installed().build(config.model().withDefaults());
    List<String> differences = weights.differences(model);
    if (!differences.isEmpty()) {
      throw new IllegalStateException(folder + ": weights differ from the config: " + differences);
    }
    weights.copyInto(model);
    return model;
  }

  static long[][] readTokens(Path file) throws IOException {
    long[][] rows = Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
        .filter(line -> !line.isEmpty())
        .map(line -> Arrays.stream(line.split("\\s+")).mapToLong(Long::parseLong).toArray())
        .toArray(long[][]::new);
    if (rows.length == 0 || Arrays.stream(rows).anyMatch(r -> r.length != rows[0].length)) {
      throw new IllegalArgumentException(file + ": expected one or more lines of equally many token ids");
    }
    return rows;
  }
}
