package org.fastllm.modules.data;

import java.nio.charset.StandardCharsets;

/** UTF-8 bytes as ids 0..255: no files, no unknown tokens. */
public final class ByteTokenizer implements Tokenizer {
  @Override
  public int[] encode(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = Byte.toUnsignedInt(bytes[i]);
    }
    return ids;
  }

  @Override
  public String decode(int[] ids) {
    byte[] bytes = new byte[ids.length];
    for (int i = 0; i < ids.length; i++) {
      bytes[i] = (byte) ids[i];
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  @Override
  public int vocabSize() {
    return 256;
  }
}
