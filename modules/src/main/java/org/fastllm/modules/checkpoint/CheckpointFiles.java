package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The names inside a checkpoints folder and the file operations every engine of this package shares: text forced to
 * disk, directory entries forced to disk, whole folders removed.
 */
final class CheckpointFiles {
  static final String CONFIG = "config.yaml";
  static final String MODEL = "model.safetensors";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "state.json";
  /** Folders being written or being removed start with this; they never count as checkpoints. */
  static final String TEMP_PREFIX = ".tmp-";
  static final String FOLDER_PATTERN = "step-\\d+";

  private CheckpointFiles() {}

  /** The folder name of the checkpoint of {@code step}: {@code step-000100}. */
  static String folderName(long step) {
    return String.format("step-%06d", step);
  }

  static void writeText(Path file, String text) throws IOException {
    try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
  }

  /** Forces a directory's entries to disk (where the platform allows opening a directory). */
  static void syncDirectory(Path directory) {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException | UnsupportedOperationException e) {
      // Not every file system lets a directory be opened; the renames are still atomic there.
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
