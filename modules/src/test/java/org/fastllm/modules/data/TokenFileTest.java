package org.fastllm.modules.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenFileTest {
  @TempDir Path dir;

  @Test
  void map_uint16_readsLittleEndianUnsignedIds() throws IOException {
    Path file = dir.resolve("t.u16");
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    b.putShort((short) 1).putShort((short) 258).putShort((short) 65535).putShort((short) 0);
    Files.write(file, b.array());

    TokenFile tokens = TokenFile.map(file, 2);

    assertThat(tokens.size()).isEqualTo(4);
    assertThat(tokens.at(0)).isEqualTo(1);
    assertThat(tokens.at(1)).isEqualTo(258);
    assertThat(tokens.at(2)).isEqualTo(65535);
    assertThat(tokens.slice(1, 2).at(1)).isEqualTo(65535);
  }

  @Test
  void map_uint32_readsLittleEndianIds() throws IOException {
    Path file = dir.resolve("t.u32");
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(70000).putInt(3).putInt(151000);
    Files.write(file, b.array());

    TokenFile tokens = TokenFile.map(file, 4);

    assertThat(tokens.size()).isEqualTo(3);
    assertThat(tokens.at(0)).isEqualTo(70000);
    assertThat(tokens.maxId()).isEqualTo(151000);
  }

  @Test
  void map_oddLength_isRefusedWithTheReason() throws IOException {
    Path file = dir.resolve("bad.u16");
    Files.write(file, new byte[] {1, 2, 3});

    IOException e = catchThrowableOfType(IOException.class, () -> TokenFile.map(file, 2));
    assertThat(e).as("expected IOException to be thrown").isNotNull();

    assertThat(e.getMessage()).isEqualTo(file + ": 3 bytes is not a whole number of 16-bit tokens");
  }
}
