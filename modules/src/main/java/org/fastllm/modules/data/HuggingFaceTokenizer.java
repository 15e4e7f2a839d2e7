package org.fastllm.modules.data;

import ai.djl.huggingface.tokenizers.jni.TokenizersLibrary;
import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL's binding, whose
 * native library ships inside its jar (nothing is downloaded). That jar holds the CPU build only; on a host with a
 * GPU the binding would look for a CUDA build that is not there, so the CPU build is asked for unless the user set
 * {@code RUST_FLAVOR} or {@code RUST_LIBRARY_PATH} (tokenization runs on the CPU either way).
 *
 * <pre>{@code Tokenizer t = HuggingFaceTokenizer.load(Path.of("tokenizer.json"));}</pre>
 */
final class HuggingFaceTokenizer implements Tokenizer {
  private static final String KEY = "data.tokenizer";
  private static final String ALLOWED = KEY + " is 'bytes' or the path of a Hugging Face tokenizer.json";
  private static final List<String> END_OF_TEXT = List.of("<|endoftext|>", "<|end_of_text|>", "</s>", "<eos>");
  private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer;
  private final int vocabSize;
  private final OptionalInt endOfText;

  private HuggingFaceTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer, int vocabSize,
      OptionalInt endOfText) {
    this.tokenizer = tokenizer;
    this.vocabSize = vocabSize;
    this.endOfText = endOfText;
  }

  static HuggingFaceTokenizer load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new DataException(KEY + ": " + file + (Files.isDirectory(file) ? " is a directory" : ": no such file")
          + " — " + ALLOWED);
    }
    int vocabSize;
    OptionalInt endOfText;
    try {
      var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
      vocabSize = vocabSizeOf(root);
      endOfText = endOfTextOf(root);
    } catch (JsonProcessingException e) {
      throw malformed(file, jsonProblem(e));
    } catch (AccessDeniedException e) {
      throw new DataException(KEY + ": " + file + ": cannot be read (permission denied)");
    } catch (IOException e) {
      throw new DataException(KEY + ": " + file + ": cannot be read (" + e.getMessage() + ")");
    }
    useTheBundledLibrary();
    try {
      var tokenizer = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.builder()
          .optTokenizerPath(file)
          .optAddSpecialTokens(false)
          .optTruncation(false)
          .optPadding(false)
          .build();
      return new HuggingFaceTokenizer(tokenizer, vocabSize, endOfText);
    } catch (ai.djl.engine.EngineException e) {
      throw new DataException(KEY + ": " + file + ": the tokenizers library could not be loaded ("
          + (e.getCause() == null ? e.getMessage() : e.getCause()) + ")");
    } catch (RuntimeException e) {
      // The Rust library's own reading of the file: an unknown model type, a missing field, a wrong value.
      throw malformed(file, e.getMessage() == null ? e.toString() : e.getMessage());
    }
  }

  /** Asks DJL's binding for the CPU build its jar carries, where the user chose no build or library. */
  static void useTheBundledLibrary() {
    for (String key : List.of("RUST_FLAVOR", "RUST_LIBRARY_PATH")) {
      if (System.getenv(key) != null || System.getProperty(key) != null) {
        return;
      }
    }
    System.setProperty("RUST_FLAVOR", "cpu");
  }

  /** The parser's message and where: the file is named already, so the source inside nested locations is left out. */
  private static String jsonProblem(JsonProcessingException e) {
    String message = e.getOriginalMessage().replaceAll("\\[Source: [^;]*; ", "[");
    return e.getLocation() == null ? message
        : message + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
  }

  private static DataException malformed(Path file, String reason) {
    return new DataException(KEY + ": " + file + ": not a valid Hugging Face tokenizer.json (" + reason + ") — "
        + ALLOWED);
  }

  /** The largest id in the file's vocabulary and added tokens, plus one. */
  private static int vocabSizeOf(com.fasterxml.jackson.databind.JsonNode root) {
    int max = -1;
    var vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      for (var it = vocab.elements(); it.hasNext(); ) {
        max = Math.max(max, it.next().asInt());
      }
    } else if (vocab.isArray()) {
      max = vocab.size() - 1;
    }
    for (var added : root.path("added_tokens")) {
      max = Math.max(max, added.path("id").asInt());
    }
    return max + 1;
  }

  /** The id of the first special added token that names an end of text. */
  private static OptionalInt endOfTextOf(com.fasterxml.jackson.databind.JsonNode root) {
    for (String name : END_OF_TEXT) {
      for (var added : root.path("added_tokens")) {
        if (added.path("special").asBoolean() && name.equals(added.path("content").asText())) {
          return OptionalInt.of(added.path("id").asInt());
        }
      }
    }
    return OptionalInt.empty();
  }

  @Override
  public OptionalInt endOfText() {
    return endOfText;
  }

  @Override
  public int[] encode(String text) {
    // Ids only: the library's Encoding would also copy every token's string, offsets and masks into Java.
    // The Rust tokenizer encodes through a shared reference and is Sync, so threads may share one handle.
    long encoding = TokenizersLibrary.LIB.encode(tokenizer.getHandle(), text, false);
    long[] ids;
    try {
      ids = TokenizersLibrary.LIB.getTokenIds(encoding);
    } finally {
      TokenizersLibrary.LIB.deleteEncoding(encoding);
    }
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      wide[i] = ids[i];
    }
    return tokenizer.decode(wide, false);
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }
}
