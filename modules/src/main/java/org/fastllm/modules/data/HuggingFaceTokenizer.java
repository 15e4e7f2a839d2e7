package org.fastllm.modules.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust {@code tokenizers} library through DJL's binding, whose
 * native library ships inside its jar (nothing is downloaded).
 *
 * <pre>{@code Tokenizer t = HuggingFaceTokenizer.load(Path.of("tokenizer.json"));}</pre>
 */
final class HuggingFaceTokenizer implements Tokenizer {
  private final ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer;
  private final int vocabSize;

  private HuggingFaceTokenizer(ai.djl.huggingface.tokenizers.HuggingFaceTokenizer tokenizer, int vocabSize) {
    this.tokenizer = tokenizer;
    this.vocabSize = vocabSize;
  }

  static HuggingFaceTokenizer load(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString(), null, "no tokenizer file (data.tokenizer is 'bytes' or the "
          + "path of a Hugging Face tokenizer.json)");
    }
    var tokenizer = ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.builder()
        .optTokenizerPath(file)
        .optAddSpecialTokens(false)
        .optTruncation(false)
        .optPadding(false)
        .build();
    return new HuggingFaceTokenizer(tokenizer, vocabSizeOf(file));
  }

  /** The largest id in the file's vocabulary and added tokens, plus one. */
  private static int vocabSizeOf(Path file) throws IOException {
    var root = new com.fasterxml.jackson.databind.ObjectMapper().readTree(file.toFile());
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

  @Override
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }
}
