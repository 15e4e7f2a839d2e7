package org.fastllm.modules.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.DataFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingDataTest {
  @TempDir Path dir;

  private static DataConfig tokens(Path file, DataFormat format) {
    return new DataConfig(file.toString(), format, null, 0.1).withDefaults();
  }

  private static DataConfig text(Path file, String tokenizer) {
    return new DataConfig(file.toString(), DataFormat.TEXT, tokenizer, 0.1).withDefaults();
  }

  private Path u16(String name, int length, int... badAt) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(2 * length).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < length; i++) {
      b.putShort((short) (i % 200));
    }
    for (int at : badAt) {
      b.putShort(2 * at, (short) 300);
    }
    return Files.write(dir.resolve(name), b.array());
  }

  @Test
  void load_tokenFileWithAnIdAtOrAboveVocabSize_namesTheFirstPositionTheValueAndTheCount() throws IOException {
    Path file = u16("bad.u16", 20_000, 15_000, 19_999);

    assertThatThrownBy(() -> TrainingData.load(tokens(file, DataFormat.TOKENS_U16), 256, () -> ""))
        .isInstanceOf(DataException.class)
        .hasMessage("data.path: " + file + ": token id 300 at position 15,000 is outside the model's vocabulary "
            + "(model.vocab_size 256); 2 of the file's 20,000 ids (tokens_u16) are at or above it — every id must be "
            + "below model.vocab_size");
  }

  @Test
  void load_badIdOnlyInTheHeldOutPart_isRefusedToo() throws IOException {
    Path file = u16("tail.u16", 1_000, 999);

    assertThatThrownBy(() -> TrainingData.load(tokens(file, DataFormat.TOKENS_U16), 256, () -> ""))
        .hasMessageContaining("token id 300 at position 999 ");
  }

  @Test
  void load_tokenFileWithinTheVocabulary_loadsAndSplits() throws IOException {
    Path file = u16("good.u16", 1_000);

    TrainingData data = TrainingData.load(tokens(file, DataFormat.TOKENS_U16), 256, () -> "");

    assertThat(data.train().size()).isEqualTo(900);
    assertThat(data.validation().at(0)).isEqualTo(900 % 200);
  }

  @Test
  void idsAtOrAbove_uint32_countsIdsAboveIntMaxAsOutOfRange() throws IOException {
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(5).putInt(0xFFFF_FFFF).putInt(7);
    Path file = Files.write(dir.resolve("t.u32"), b.array());

    assertThat(TokenFile.map(file, 4).idsAtOrAbove(6))
        .contains(new TokenFile.OutOfRange(1, 0xFFFF_FFFFL, 2));
    assertThat(TokenFile.map(file, 4).idsAtOrAbove(1 << 20)).isPresent();
  }

  @Test
  void load_oddByteCount_namesTheKeyTheFileTheSizeAndTheWidth() throws IOException {
    Path file = Files.write(dir.resolve("odd.u16"), new byte[] {1, 2, 3});

    assertThatThrownBy(() -> TrainingData.load(tokens(file, DataFormat.TOKENS_U16), 256, () -> ""))
        .isInstanceOf(DataException.class)
        .hasMessage("data.path: " + file + ": 3 bytes is not a whole number of 16-bit tokens");
  }

  @Test
  void load_directory_isRefusedForTextAndTokenFiles() {
    String expected = "data.path: " + dir + " is a directory — data.path names one file (text, or token ids for "
        + "tokens_u16 / tokens_u32)";

    assertThatThrownBy(() -> TrainingData.load(text(dir, "bytes"), 256, () -> "")).hasMessage(expected);
    assertThatThrownBy(() -> TrainingData.load(tokens(dir, DataFormat.TOKENS_U32), 256, () -> ""))
        .hasMessage(expected);
  }

  @Test
  void load_missingFile_namesTheKey() {
    Path file = dir.resolve("nothing.txt");

    assertThatThrownBy(() -> TrainingData.load(text(file, "bytes"), 256, () -> ""))
        .isInstanceOf(DataException.class)
        .hasMessage("data.path: " + file + ": no such file");
  }

  @Test
  void load_invalidUtf8_givesTheByteOffsetOfTheFirstBadSequence() throws IOException {
    byte[] bytes = "héllo, world".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] bad = new byte[bytes.length + 3];
    System.arraycopy(bytes, 0, bad, 0, bytes.length);
    bad[bytes.length] = (byte) 0xFF;
    bad[bytes.length + 1] = 'a';
    bad[bytes.length + 2] = (byte) 0xC3;
    Path file = Files.write(dir.resolve("latin1.txt"), bad);

    assertThatThrownBy(() -> TrainingData.load(text(file, "bytes"), 256, () -> ""))
        .isInstanceOf(DataException.class)
        .hasMessage("data.path: " + file + ": not valid UTF-8 text: the byte at offset 13 (0xff) starts a malformed "
            + "sequence — format: text needs UTF-8; pre-tokenized ids use format tokens_u16 or tokens_u32");
  }

  @Test
  void text_validUtf8_isReadWhole() throws IOException {
    Path file = Files.writeString(dir.resolve("ok.txt"), "héllo ✓ 𝄞");
    byte[] bytes = Files.readAllBytes(file);

    assertThat(StreamingTokenizer.decode(bytes, bytes.length, 0, file)).isEqualTo("héllo ✓ 𝄞");
  }
}
