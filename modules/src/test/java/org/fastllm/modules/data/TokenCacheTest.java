package org.fastllm.modules.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenCacheTest {
  /** GPT-2's pre-tokenizer (its whitespace and newline rules), with a word-level vocabulary to stay small. */
  static final String BYTE_LEVEL_WORDS = """
      {"version": "1.0", "truncation": null, "padding": null,
       "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false,
                         "normalized": false, "special": true}],
       "normalizer": null,
       "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
       "post_processor": null, "decoder": null,
       "model": {"type": "WordLevel", "unk_token": "[UNK]",
                 "vocab": {"[UNK]": 0, "the": 1, "Ġriver": 2, "Ġwakes": 3, "Ċ": 4, "ĊĊ": 5, "Ġ": 6, ".": 7,
                           "town": 8, "Ġdoes": 9, "ĠĠ": 10, "ĉ": 11}}}
      """;
  @TempDir Path dir;
  private final List<String> notes = new ArrayList<>();
  private final List<Long> done = new ArrayList<>();
  private final TokenizationProgress progress = new TokenizationProgress() {
    @Override
    public void tokenized(long bytesDone, long bytesTotal) {
      done.add(bytesDone);
    }

    @Override
    public void note(String line) {
      notes.add(line);
    }
  };
  private Path text;
  private Path tokenizerFile;
  private Tokenizer tokenizer;

  @BeforeEach
  void tokenizer() throws IOException {
    tokenizerFile = Files.writeString(dir.resolve("tokenizer.json"), BYTE_LEVEL_WORDS);
    tokenizer = Tokenizer.named(tokenizerFile.toString());
    text = Files.writeString(dir.resolve("corpus.txt"), corpus(3 * StreamingTokenizer.PIECE));
  }

  /** Lines with every kind of line end and whitespace run the pre-tokenizer treats specially, over many pieces. */
  static String corpus(int bytes) {
    String[] lines = {"the river wakes.\n", "town does  .\n\n", "the river \n", "\ttown.\n", " the river\r\n",
        "does.\n   \n", "town\n", "ünïcode the river wakes.\n"};
    StringBuilder b = new StringBuilder();
    for (int i = 0; b.length() < bytes; i++) {
      b.append(lines[(i * 7 + i / 5) % lines.length]);
    }
    return b.toString();
  }

  private Tokens tokens() throws IOException {
    return new TokenCache(dir.resolve("user-cache")).tokens(text, tokenizer, tokenizerFile.toString(), tokenizerFile,
        progress);
  }

  private static int[] ids(Tokens t) {
    int[] out = new int[Math.toIntExact(t.size())];
    for (int i = 0; i < out.length; i++) {
      out[i] = t.at(i);
    }
    return out;
  }

  @Test
  void tokens_aTextOfManyPiecesOnSeveralThreads_givesTheIdsOfTheWholeText() throws IOException {
    int[] whole = tokenizer.encode(Files.readString(text));

    Tokens streamed = tokens();

    assertThat(done).hasSizeGreaterThan(2).last().isEqualTo(Files.size(text));
    assertThat(ids(streamed)).isEqualTo(whole);
  }

  @Test
  void tokens_secondTime_mapsTheCacheWithoutTokenizing() throws IOException {
    int[] first = ids(tokens());
    done.clear();

    Tokens second = tokens();

    Path cache = dir.resolve(".fastllm-cache").resolve("corpus.txt." + cacheHash() + ".tokens");
    assertThat(notes).containsExactly("tokens: from cache " + cache);
    assertThat(done).isEmpty();
    assertThat(ids(second)).isEqualTo(first);
  }

  @Test
  void tokens_changedText_isTokenizedAgainWithANote() throws IOException {
    tokens();
    Files.writeString(text, "the river wakes.\n");

    Tokens again = tokens();

    assertThat(notes).singleElement().asString().endsWith(" is stale (the text or the tokenizer changed); "
        + "tokenizing again");
    assertThat(ids(again)).containsExactly(1, 2, 3, 7, 4);
  }

  @Test
  void tokens_changedTokenizer_usesAnotherCacheFile() throws IOException {
    tokens();
    Files.writeString(tokenizerFile, BYTE_LEVEL_WORDS.replace("\"town\": 8", "\"town\": 12"));
    tokenizer = Tokenizer.named(tokenizerFile.toString());
    done.clear();

    Tokens again = tokens();

    assertThat(done).isNotEmpty();
    assertThat(notes).isEmpty();
    assertThat(ids(again)).contains(12).doesNotContain(8);
  }

  @Test
  void tokens_damagedCache_isRebuiltWithANote() throws IOException {
    int[] first = ids(tokens());
    Path cache = dir.resolve(".fastllm-cache").resolve("corpus.txt." + cacheHash() + ".tokens");
    try (RandomAccessFile f = new RandomAccessFile(cache.toFile(), "rw")) {
      f.seek(TokenCache.HEADER + 100);
      f.write(0x7F);
    }

    Tokens again = tokens();

    assertThat(notes).containsExactly("tokens: cache " + cache + " is damaged (its checksum does not match); "
        + "tokenizing again");
    assertThat(ids(again)).isEqualTo(first);
  }

  @Test
  void tokens_truncatedCache_isRebuiltWithANote() throws IOException {
    tokens();
    Path cache = dir.resolve(".fastllm-cache").resolve("corpus.txt." + cacheHash() + ".tokens");
    try (RandomAccessFile f = new RandomAccessFile(cache.toFile(), "rw")) {
      f.setLength(f.length() - 2);
    }

    tokens();

    assertThat(notes).singleElement().asString().startsWith("tokens: cache " + cache + " is incomplete (");
  }

  @Test
  void tokens_invalidUtf8LateInTheFile_givesTheByteOffsetInTheFile() throws IOException {
    byte[] good = Files.readAllBytes(text);
    byte[] bad = java.util.Arrays.copyOf(good, good.length + 1);
    bad[good.length] = (byte) 0xE9;
    Files.write(text, bad);

    org.assertj.core.api.Assertions.assertThatThrownBy(this::tokens).isInstanceOf(DataException.class)
        .hasMessageContaining(String.format(java.util.Locale.ROOT, "the byte at offset %,d (0xe9)", good.length));
  }

  @Test
  void tokens_aMetaspaceTokenizerThatMarksTheStartOfEachInput_isCutBeforeSpacesAndGivesTheIdsOfTheWholeText()
      throws IOException {
    Files.writeString(tokenizerFile, BYTE_LEVEL_WORDS.replace("""
        {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""", """
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": true}""")
        .replace("\"the\": 1", "\"\u2581the\": 1").replace("\"\u0120river\": 2", "\"\u2581river\": 2"));
    tokenizer = Tokenizer.named(tokenizerFile.toString());
    int[] whole = tokenizer.encode(Files.readString(text));

    Tokens streamed = tokens();

    assertThat(notes).isEmpty();
    assertThat(done).as("pieces written").hasSizeGreaterThan(2);
    assertThat(ids(streamed)).isEqualTo(whole).contains(1, 2);
  }

  @Test
  void tokens_aTokenizerThatChangesItsIdsAtEveryCut_readsTheFileInOnePieceWithANote() throws IOException {
    Tokenizer startMark = new Tokenizer() {
      /** An id 300 that starts every input, then one id per character. */
      @Override
      public int[] encode(String s) {
        return java.util.stream.IntStream.concat(java.util.stream.IntStream.of(300), s.chars().map(c -> c & 0xFF))
            .toArray();
      }

      @Override
      public String decode(int[] ids) {
        throw new UnsupportedOperationException("not decoded in this test");
      }

      @Override
      public int vocabSize() {
        return 512;
      }
    };

    Tokens streamed = new TokenCache(dir.resolve("user-cache")).tokens(text, startMark, "start-mark", null, progress);

    assertThat(notes).containsExactly("tokens: the tokenizer gives other ids when the text is cut at a line break or "
        + "a space, so the rest of " + text + " is tokenized in one piece");
    assertThat(done).containsExactly(Files.size(text));
    assertThat(ids(streamed)).isEqualTo(startMark.encode(Files.readString(text)));
  }

  @Test
  void tokens_aTokenizerThatKeepsSomeLineBreaksWithTheNextLine_isStillCutAtTheOthers() throws IOException {
    Tokenizer dotBreak = new Tokenizer() {
      /** One id per character, but a {@code .\n} and the character after it are one id. */
      @Override
      public int[] encode(String s) {
        int[] out = new int[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
          boolean merge = s.charAt(i) == '.' && i + 2 < s.length() && s.charAt(i + 1) == '\n';
          out[n++] = merge ? 256 + s.charAt(i + 2) : s.charAt(i);
          i += merge ? 2 : 0;
        }
        return java.util.Arrays.copyOf(out, n);
      }

      @Override
      public String decode(int[] ids) {
        throw new UnsupportedOperationException("not decoded in this test");
      }

      @Override
      public int vocabSize() {
        return 512;
      }
    };
    StringBuilder b = new StringBuilder();
    for (int i = 0; b.length() < 3 * StreamingTokenizer.PIECE; i++) {
      b.append(i % 6 == 5 ? "town\n" : "the river wakes.\n");
    }
    Files.writeString(text, b);

    Tokens streamed = new TokenCache(dir.resolve("user-cache")).tokens(text, dotBreak, "dot-break", null, progress);

    assertThat(notes).isEmpty();
    assertThat(done).as("pieces written").hasSizeGreaterThan(2);
    assertThat(ids(streamed)).isEqualTo(dotBreak.encode(b.toString())).contains(256 + 't');
  }

  @Test
  void userFolder_xdgCacheHomeFirstThenHome() {
    assertThat(TokenCache.userFolder(java.util.Map.of("XDG_CACHE_HOME", "/x", "HOME", "/h")))
        .isEqualTo(Path.of("/x/fastllm/tokens"));
    assertThat(TokenCache.userFolder(java.util.Map.of("HOME", "/h"))).isEqualTo(Path.of("/h/.cache/fastllm/tokens"));
  }

  @Test
  void tokens_dataFolderNotWritable_cachesInTheUserFolderWithANote() throws IOException {
    Path blocked = Files.writeString(dir.resolve(".fastllm-cache"), "a file where the cache folder would be");

    Tokens ids = tokens();
    Tokens again = tokens();

    assertThat(notes.get(0)).startsWith("tokens: cannot write the cache beside the data (" + blocked + ": ")
        .endsWith("); caching in " + dir.resolve("user-cache"));
    assertThat(notes.get(notes.size() - 1)).startsWith("tokens: from cache " + dir.resolve("user-cache"));
    assertThat(ids(again)).isEqualTo(ids(ids));
  }

  private String cacheHash() throws IOException {
    try (var s = Files.list(dir.resolve(".fastllm-cache"))) {
      String name = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tokens")).findFirst()
          .orElseThrow();
      return name.substring("corpus.txt.".length(), name.length() - ".tokens".length());
    }
  }
}
