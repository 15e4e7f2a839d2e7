package org.fastllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.Optional;
import org.bytedeco.pytorch.Device;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.modules.data.Tokenizer;
import org.fastllm.modules.data.Tokens;
import org.fastllm.modules.data.TrainingData;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The two lines that end a training run: the first tokens of the held-out text and the trained model's greedy
 * continuation of them, control characters escaped, so that a new user sees at once what the model learned.
 *
 * <pre class="text">
 * sample prompt   "\nX. Evening\n\nAt "   (the start of the held-out text)
 * sample greedy   "the stone and the stone and the and the church i"
 * </pre>
 *
 * <p><b>Runs in eval mode without gradients and puts the model's mode back</b>; it costs {@value #NEW_TOKENS} decoding
 * steps of one sequence.
 */
final class TrainedSample {
  static final int PROMPT_TOKENS = 16;
  static final int NEW_TOKENS = 48;

  private TrainedSample() {}

  /**
   * Prints the sample of {@code model} to {@code out}; nothing where the data holds too few tokens or the
   * tokenizer cannot be read again.
   */
  static void print(LanguageModel model, Device device, ConfigDocument run, TrainingData data, PrintWriter out) {
    Optional<Prompt> prompt = prompt(data);
    if (prompt.isEmpty()) {
      return;
    }
    Tokenizer tokenizer;
    try {
      tokenizer = Tokenizer.named(run.data().tokenizer());
    } catch (IOException | IllegalArgumentException e) {
      return;
    }
    int[] ids = prompt.get().ids();
    ModelConfig config = run.model().withDefaults().config();
    int tokens = config.positionEmbeddings() ? Math.min(NEW_TOKENS, config.maxSequenceLength() - ids.length)
        : NEW_TOKENS;
    if (tokens < 1) {
      return;
    }
    boolean training = model.is_training();
    int[] made;
    try {
      made = GenerationLoop.continuation(model, device, ids, tokens, tokenizer.endOfText(),
          new TokenSampler(0, 0, 1, 0), id -> {});
    } finally {
      model.train(training);
    }
    out.println("sample prompt   " + quoted(tokenizer.decode(ids)) + "   (" + prompt.get().from() + ")");
    out.println("sample greedy   " + quoted(tokenizer.decode(made)));
    out.flush();
  }

  /** The first tokens of the held-out part, or of the training part where none is held out. */
  private static Optional<Prompt> prompt(TrainingData data) {
    Tokens validation = data.validation();
    if (validation != null && validation.size() >= PROMPT_TOKENS) {
      return Optional.of(new Prompt(first(validation), "the start of the held-out text"));
    }
    if (data.train().size() >= PROMPT_TOKENS) {
      return Optional.of(new Prompt(first(data.train()), "the start of the training text"));
    }
    return Optional.empty();
  }

  private static int[] first(Tokens tokens) {
    int[] ids = new int[PROMPT_TOKENS];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokens.at(i);
    }
    return ids;
  }

  /** {@code text} in double quotes, with quotes, backslashes and control characters escaped as in Java. */
  static String quoted(String text) {
    StringBuilder b = new StringBuilder("\"");
    text.codePoints().forEach(c -> {
      switch (c) {
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (Character.isISOControl(c) || Character.getType(c) == Character.FORMAT) {
            b.append(String.format(java.util.Locale.ROOT, "\\u%04x", c));
          } else {
            b.appendCodePoint(c);
          }
        }
      }
    });
    return b.append('"').toString();
  }

  private record Prompt(int[] ids, String from) {}
}
