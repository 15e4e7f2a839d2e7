package org.fastllm.modules.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.fastllm.dsl.config.DataConfig;

/**
 * Turns text into token ids.
 *
 * <pre>{@code Tokenizer.named("bytes").encode("hi")  // [104, 105]}</pre>
 */
public interface Tokenizer {
  int[] encode(String text);

  /** The text of {@code ids}; ids that end inside a multi-byte character decode to U+FFFD there. */
  String decode(int[] ids);

  /**
   * The id that ends a text, where the tokenizer has one: for a {@code tokenizer.json}, its special added token
   * {@code <|endoftext|>}, {@code <|end_of_text|>}, {@code </s>} or {@code <eos>}; none for {@code bytes}.
   */
  default OptionalInt endOfText() {
    return OptionalInt.empty();
  }

  /** How many ids it can produce; the model's {@code vocab_size} must be at least this. */
  int vocabSize();

  /** {@code bytes}, or the path of a Hugging Face {@code tokenizer.json}. */
  static Tokenizer named(String name) throws IOException {
    if (name.equals(DataConfig.BYTES)) {
      return new ByteTokenizer();
    }
    return HuggingFaceTokenizer.load(Path.of(name));
  }
}
