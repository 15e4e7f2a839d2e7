package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data rows: a bad data file or tokenizer is refused before step 1 with exit 2 and a message naming the
 * key and the file, never an internal error. The built-in model (vocab_size 256) trains on each file.
 */
class DataChecksTest {
  @TempDir Path dir;

  private MainTest.Run train(String... settings) {
    String[] args = new String[settings.length + 3];
    args[0] = "train";
    args[1] = "training.output_dir=" + dir.resolve("run");
    args[2] = "training.steps=10";
    System.arraycopy(settings, 0, args, 3, settings.length);
    return MainTest.run(args);
  }

  private void assertRefusedBeforeStep1(MainTest.Run r, String message) {
    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: " + message + System.lineSeparator());
    assertThat(r.out()).isEmpty();
    assertThat(dir.resolve("run/metrics.jsonl")).doesNotExist();
  }

  @Test
  void train_tokenFileWithOneIdAboveVocabSizeAtPosition15000_isRefusedBeforeStep1WithExit2() throws IOException {
    ByteBuffer ids = ByteBuffer.allocate(2 * 20_000).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 20_000; i++) {
      ids.putShort((short) (i % 256));
    }
    ids.putShort(2 * 15_000, (short) 256);
    Path file = Files.write(dir.resolve("train.u16"), ids.array());

    MainTest.Run r = train("data.path=" + file, "data.format=tokens_u16");

    assertRefusedBeforeStep1(r, "data.path: " + file + ": token id 256 at position 15,000 is outside the model's "
        + "vocabulary (model.vocab_size 256); 1 of the file's 20,000 ids (tokens_u16) are at or above it — every id "
        + "must be below model.vocab_size");
  }

  @Test
  void train_oddByteCountInATokensU16File_namesTheFileTheSizeAndTheWidth() throws IOException {
    Path file = Files.write(dir.resolve("odd.u16"), new byte[20_001]);

    MainTest.Run r = train("data.path=" + file, "data.format=tokens_u16");

    assertRefusedBeforeStep1(r, "data.path: " + file + ": 20001 bytes is not a whole number of 16-bit tokens");
  }

  @Test
  void train_dataPathADirectory_isRefusedNamingTheKey() {
    MainTest.Run r = train("data.path=" + dir);

    assertRefusedBeforeStep1(r, "data.path: " + dir + " is a directory — data.path names one file (text, or token "
        + "ids for tokens_u16 / tokens_u32)");
  }

  @Test
  void train_invalidUtf8Text_givesTheByteOffsetOfTheFirstBadSequence() throws IOException {
    byte[] text = ("the river wakes before the town does. ".repeat(100) + "caf\u00e9").getBytes(
        java.nio.charset.StandardCharsets.ISO_8859_1);
    Path file = Files.write(dir.resolve("latin1.txt"), text);

    MainTest.Run r = train("data.path=" + file);

    assertRefusedBeforeStep1(r, "data.path: " + file + ": not valid UTF-8 text: the byte at offset 3,803 (0xe9) "
        + "starts a malformed sequence — format: text needs UTF-8; pre-tokenized ids use format tokens_u16 or "
        + "tokens_u32");
  }

  @Test
  void train_malformedTokenizerJson_namesTheFileAndWhatIsWrong() throws IOException {
    Path text = Files.writeString(dir.resolve("corpus.txt"), "the river wakes. ".repeat(100));
    Path tokenizer = Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"vocab\": [\"a\", \"b\"}}");

    MainTest.Run r = train("data.path=" + text, "data.tokenizer=" + tokenizer);

    assertThat(r.exit()).as(r.err()).isEqualTo(Main.INVALID);
    assertThat(r.err()).isEqualTo("error: data.tokenizer: " + tokenizer + ": not a valid Hugging Face "
        + "tokenizer.json (Unexpected close marker '}': expected ']' (for Array starting at [line: 1, column: 21]) at "
        + "line 1, column 30) — data.tokenizer is 'bytes' or the path of a Hugging Face tokenizer.json"
        + System.lineSeparator());
    assertThat(dir.resolve("run/metrics.jsonl")).doesNotExist();
  }

  /** The row's 20 MB file, cut to 2.3 MB for a 2-core CI; the file is still many pieces of the tokenizer. */
  @Test
  void train_20MbTextWithTokenizerJson_tokenizesOnceWithAProgressBarAndReadsTheCacheOnResume() throws IOException {
    Path text = Files.writeString(dir.resolve("corpus.txt"), "the river wakes before the town does .\n"
        .repeat(60_000));
    Path tokenizer = Files.writeString(dir.resolve("tokenizer.json"), """
        {"added_tokens": [], "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
         "decoder": null, "model": {"type": "WordLevel", "unk_token": "the",
         "vocab": {"the": 0, "river": 1, "wakes": 2, "before": 3, "town": 4, "does": 5, ".": 6}}}
        """);
    Path cache = dir.resolve(".fastllm-cache");

    MainTest.Run first = train("data.path=" + text, "data.tokenizer=" + tokenizer, "checkpoint.interval=10");
    MainTest.Run resumed = MainTest.run("train", "--resume", dir.resolve("run").toString(), "training.steps=12");

    assertThat(first.exit()).as(first.err()).isEqualTo(Main.OK);
    assertThat(first.err()).containsPattern("(?m)^tokenizing 2\\.3/2\\.3 MB  [0-9.,]+ MB/s  ETA 0:00$")
        .doesNotContain("from cache");
    assertThat(first.err().lines().filter(l -> l.startsWith("tokenizing 2.3/2.3 MB")))
        .as("the file is tokenized once").hasSize(1);
    try (var files = Files.list(cache)) {
      assertThat(files).singleElement().asString().startsWith(cache.resolve("corpus.txt.").toString())
          .endsWith(".tokens");
    }
    assertThat(resumed.exit()).as(resumed.err()).isEqualTo(Main.OK);
    assertThat(resumed.err()).containsPattern("(?m)^tokens: from cache " + java.util.regex.Pattern.quote(
        cache.toString()) + "/corpus\\.txt\\.[0-9a-f]{12}\\.tokens$").doesNotContain("tokenizing");
  }
}
