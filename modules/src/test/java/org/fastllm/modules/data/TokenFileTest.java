package org.fastllm.modules.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    assertEquals(4, tokens.size());
    assertEquals(1, tokens.at(0));
    assertEquals(258, tokens.at(1));
    assertEquals(65535, tokens.at(2));
    assertEquals(65535, tokens.slice(1, 2).at(1));
  }

  @Test
  void map_uint32_readsLittleEndianIds() throws IOException {
    Path file = dir.resolve("t.u32");
    ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(70000).putInt(3).putInt(151000);
    Files.write(file, b.array());

    TokenFile tokens = TokenFile.map(file, 4);

    assertEquals(3, tokens.size());
    assertEquals(70000, tokens.at(0));
    assertEquals(151000, tokens.maxId());
  }

  @Test
  void map_oddLength_isRefusedWithTheReason() throws IOException {
    Path file = dir.resolve("bad.u16");
    Files.write(file, new byte[] {1, 2, 3});

    IOException e = assertThrows(IOException.class, () -> TokenFile.map(file, 2));

    assertEquals(file + ": 3 bytes is not a whole number of 16-bit tokens", e.getMessage());
  }
}
