package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Test hook that simulates a full disk in the middle of a checkpoint save: with the system property
 * {@value #PROPERTY} set to a step, the save of that step writes the start of {@code optimizer.safetensors} and then
 * fails as a full disk does.
 *
 * <pre>{@code java -Dfastllm.test.checkpointDiskFullAtStep=4 -jar fastllm-cli.jar train ...}</pre>
 *
 * <p><b>Without the property this does nothing.</b> A real full disk cannot be made without root (a size-limited
 * mount), so the tests use this instead.
 */
final class DiskFullForTests {
  static final String PROPERTY = Checkpoint.DISK_FULL_PROPERTY;

  private DiskFullForTests() {}

  static void failIfAsked(long step, Path partial) throws IOException {
    if (!Long.toString(step).equals(System.getProperty(PROPERTY))) {
      return;
    }
    try (FileChannel out = FileChannel.open(partial, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      out.write(ByteBuffer.wrap(new byte[4096]));
    }
    throw new IOException("No space left on device");
  }
}
