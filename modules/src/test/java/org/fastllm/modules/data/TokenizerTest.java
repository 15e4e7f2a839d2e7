package org.fastllm.modules.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  /** A word-level tokenizer.json as the Hugging Face library writes one, small enough to read. */
  static final String WORD_LEVEL = """
      {"version": "1.0", "truncation": null, "padding": null,
       "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false,
                         "normalized": false, "special": true}],
       "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
       "model": {"type": "WordLevel", "unk_token": "[UNK]",
                 "vocab": {"[UNK]": 0, "the": 1, "river": 2, "wakes": 3, "before": 4, "town": 5, "does": 6, ".": 7}}}
      """;
  @TempDir Path dir;

  @Test
  void named_bytes_givesUtf8Bytes() throws IOException {
    Tokenizer bytes = Tokenizer.named("bytes");

    assertThat(bytes.encode("hé")).containsExactly(new int[] {104, 195, 169});
    assertThat(bytes.vocabSize()).isEqualTo(256);
  }

  @Test
  void named_tokenizerJson_encodesThroughTheHuggingFaceLibrary() throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, WORD_LEVEL);

    Tokenizer words = Tokenizer.named(file.toString());

    assertThat(words.encode("the river wakes before the town does . zebra"))
        .containsExactly(new int[] {1, 2, 3, 4, 1, 5, 6, 7, 0});
    assertThat(words.vocabSize()).isEqualTo(8);
  }

  /** On a host with a GPU the binding would look for a CUDA build of the library that its jar does not carry. */
  @Test
  void named_tokenizerJson_asksForTheCpuBuildOfTheLibraryItsJarCarries() throws IOException {
    Path file = dir.resolve("tokenizer.json");
    Files.writeString(file, WORD_LEVEL);

    Tokenizer.named(file.toString());

    assertThat(System.getenv("RUST_FLAVOR")).isNull();
    assertThat(System.getProperty("RUST_FLAVOR")).isEqualTo("cpu");
  }

  @Test
  void decode_bytes_givesBackTheText() throws IOException {
    Tokenizer bytes = Tokenizer.named("bytes");

    assertThat(bytes.decode(bytes.encode("hé river"))).isEqualTo("hé river");
    assertThat(bytes.endOfText()).isEmpty();
  }

  @Test
  void decode_tokenizerJson_givesTheWords_andItsEndOfTextTokenIsFound() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), WORD_LEVEL.replace("\"special\": true}]",
        "\"special\": true}, {\"id\": 8, \"content\": \"</s>\", \"single_word\": false, \"lstrip\": false, "
        + "\"rstrip\": false, \"normalized\": false, \"special\": true}]"));

    Tokenizer words = Tokenizer.named(file.toString());

    assertThat(words.decode(new int[] {1, 2, 3})).isEqualTo("the river wakes");
    assertThat(words.endOfText()).hasValue(8);
    assertThat(Tokenizer.named(Files.writeString(dir.resolve("plain.json"), WORD_LEVEL).toString()).endOfText())
        .isEmpty();
  }

  @Test
  void named_malformedTokenizerJson_namesTheFileAndWhereTheJsonBreaks() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": {\"a\": 0,}}");

    assertThatThrownBy(() -> Tokenizer.named(file.toString()))
        .isInstanceOf(DataException.class)
        .hasMessageStartingWith("data.tokenizer: " + file + ": not a valid Hugging Face tokenizer.json (Unexpected "
            + "character ('}' (code 125))")
        .hasMessageContaining("at line 1, column 29) — data.tokenizer is 'bytes' or the path of a Hugging Face "
            + "tokenizer.json");
  }

  @Test
  void named_tokenizerJsonTheLibraryCannotRead_givesTheLibrarysReason() throws IOException {
    Path file = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"NoSuchModel\"}}");

    assertThatThrownBy(() -> Tokenizer.named(file.toString()))
        .isInstanceOf(DataException.class)
        .hasMessageStartingWith("data.tokenizer: " + file + ": not a valid Hugging Face tokenizer.json (")
        .hasMessageEndingWith(") — data.tokenizer is 'bytes' or the path of a Hugging Face tokenizer.json");
  }

  @Test
  void named_missingTokenizer_namesTheKey() {
    Path file = dir.resolve("none.json");

    assertThatThrownBy(() -> Tokenizer.named(file.toString()))
        .isInstanceOf(DataException.class)
        .hasMessage("data.tokenizer: " + file + ": no such file — data.tokenizer is 'bytes' or the path of a Hugging "
            + "Face tokenizer.json");
  }
}
