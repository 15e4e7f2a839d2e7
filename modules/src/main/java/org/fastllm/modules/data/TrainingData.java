package org.fastllm.modules.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.DataFormat;

/**
 * The tokens of a run, split into a training part and a held-out end part of {@code validation_fraction}.
 *
 * <pre>{@code
 * // given ConfigDocument config, Supplier<String> builtInCorpus
 * TrainingData data = TrainingData.load(config.data(), builtInCorpus);  data.train().size();
 * }</pre>
 *
 * @param source what was read, for the summary
 * @param vocabSize the tokenizer's id range, or 0 for a token file (ids are checked as batches are drawn)
 */
public record TrainingData(String source, Tokens train, Tokens validation, int vocabSize) {

  /** Reads {@code data.path} (or, when absent, the text {@code builtIn} supplies) and splits it. */
  public static TrainingData load(DataConfig data, Supplier<String> builtIn) throws IOException {
    Tokens all;
    int vocab = 0;
    String source;
    if (data.format() == DataFormat.TEXT) {
      Tokenizer tokenizer = Tokenizer.named(data.tokenizer());
      String text = data.path() == null ? builtIn.get()
          : Files.readString(Path.of(data.path()), StandardCharsets.UTF_8);
      all = Tokens.of(tokenizer.encode(text));
      vocab = tokenizer.vocabSize();
      source = (data.path() == null ? "built-in corpus" : data.path()) + " (" + data.tokenizer() + " tokens)";
    } else {
      if (data.path() == null) {
        throw new IOException("data.path: a token file format (" + data.format().yamlName() + ") needs a path");
      }
      all = TokenFile.map(Path.of(data.path()), data.format() == DataFormat.TOKENS_U16 ? 2 : 4);
      source = data.path() + " (" + data.format().yamlName() + ")";
    }
    long held = (long) Math.floor(all.size() * data.validationFraction());
    return new TrainingData(source, all.slice(0, all.size() - held), all.slice(all.size() - held, held), vocab);
  }
}
