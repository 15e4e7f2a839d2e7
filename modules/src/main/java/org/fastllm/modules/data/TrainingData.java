package org.fastllm.modules.data;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.Supplier;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.DataFormat;

/**
 * The tokens of a run, split into a training part and a held-out end part of {@code validation_fraction}, checked
 * before training starts: a file that is missing, a folder, unreadable, not UTF-8 text, not a whole number of ids,
 * or holding an id the model has no embedding for is refused with a {@link DataException} naming the key and file.
 *
 * <pre>{@code
 * // given ConfigDocument config, Supplier<String> builtInCorpus
 * TrainingData data = TrainingData.load(config.data(), config.model().vocabSize(), builtInCorpus);
 * data.train().size();
 * }</pre>
 *
 * @param source what was read, for the summary
 * @param vocabSize the tokenizer's id range, or 0 for a token file (whose ids were checked against the model's
 *     vocabulary as it was loaded)
 */
public record TrainingData(String source, Tokens train, Tokens validation, int vocabSize) {
  private static final String PATH = "data.path";

  /**
   * Reads {@code data.path} (or, when absent, the text {@code builtIn} supplies) and splits it; every id of a token
   * file, held-out part included, must be below {@code modelVocabSize} ({@code model.vocab_size}).
   */
  public static TrainingData load(DataConfig data, int modelVocabSize, Supplier<String> builtIn) throws IOException {
    return load(data, modelVocabSize, builtIn, TokenizationProgress.SILENT);
  }

  /**
   * As {@link #load(DataConfig, int, Supplier)}, with the progress of tokenizing a text file: its ids come from the
   * cache beside it ({@code .fastllm-cache/}) when that holds them, else the file is tokenized on every core in
   * bounded memory and cached for the next run and every resume.
   */
  public static TrainingData load(DataConfig data, int modelVocabSize, Supplier<String> builtIn,
      TokenizationProgress progress) throws IOException {
    return load(data, modelVocabSize, builtIn, progress, TokenCache.userFolder(System.getenv()));
  }

  static TrainingData load(DataConfig data, int modelVocabSize, Supplier<String> builtIn,
      TokenizationProgress progress, Path fallbackCache) throws IOException {
    Tokens all;
    int vocab = 0;
    String source;
    if (data.format() == DataFormat.TEXT) {
      Tokenizer tokenizer = Tokenizer.named(data.tokenizer());
      if (data.path() == null) {
        all = Tokens.of(tokenizer.encode(builtIn.get()));
      } else {
        Path file = Path.of(data.path());
        requireFile(file);
        Path tokenizerFile = data.tokenizer().equals(DataConfig.BYTES) ? null : Path.of(data.tokenizer());
        try {
          all = new TokenCache(fallbackCache).tokens(file, tokenizer, data.tokenizer(), tokenizerFile, progress);
        } catch (NoSuchFileException | AccessDeniedException e) {
          throw unreadable(file, e);
        }
      }
      vocab = tokenizer.vocabSize();
      source = (data.path() == null ? "built-in corpus" : data.path()) + " (" + data.tokenizer() + " tokens)";
    } else {
      if (data.path() == null) {
        throw new DataException(PATH + ": a token file format (" + data.format().yamlName() + ") needs a path");
      }
      Path file = Path.of(data.path());
      requireFile(file);
      TokenFile tokens;
      try {
        tokens = TokenFile.map(file, data.format() == DataFormat.TOKENS_U16 ? 2 : 4);
      } catch (IOException e) {
        throw unreadable(file, e);
      }
      requireIdsBelow(tokens, modelVocabSize, file, data.format());
      all = tokens;
      source = data.path() + " (" + data.format().yamlName() + ")";
    }
    long held = (long) Math.floor(all.size() * data.validationFraction());
    return new TrainingData(source, all.slice(0, all.size() - held), all.slice(all.size() - held, held), vocab);
  }

  private static void requireIdsBelow(TokenFile tokens, int vocabSize, Path file, DataFormat format) {
    tokens.idsAtOrAbove(vocabSize).ifPresent(bad -> {
      throw new DataException(String.format(Locale.ROOT, "%s: %s: token id %,d at position %,d is outside the "
          + "model's vocabulary (model.vocab_size %,d); %,d of the file's %,d ids (%s) are at or above it — every "
          + "id must be below model.vocab_size", PATH, file, bad.id(), bad.position(), vocabSize, bad.count(),
          tokens.size(), format.yamlName()));
    });
  }

  private static void requireFile(Path file) {
    if (Files.isDirectory(file)) {
      throw new DataException(PATH + ": " + file + " is a directory — data.path names one file (text, or token ids "
          + "for tokens_u16 / tokens_u32)");
    }
    if (!Files.exists(file)) {
      throw new DataException(PATH + ": " + file + ": no such file");
    }
  }

  private static DataException unreadable(Path file, IOException e) {
    if (e instanceof AccessDeniedException) {
      return new DataException(PATH + ": " + file + ": cannot be read (permission denied)");
    }
    if (e instanceof NoSuchFileException) {
      return new DataException(PATH + ": " + file + ": no such file");
    }
    String reason = e.getMessage() == null ? e.toString() : e.getMessage();
    return new DataException(PATH + ": " + (reason.startsWith(file.toString()) ? reason
        : file + ": cannot be read (" + reason + ")"));
  }
}
