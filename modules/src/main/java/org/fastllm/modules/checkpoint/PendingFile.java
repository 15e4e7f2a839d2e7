package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * One file of a save not yet written: its name inside the checkpoint folder and what writes it. The writer runs only
 * once the save has reached this file, so a save that fails earlier never computes it.
 */
record PendingFile(String name, Contents contents) {

  /** Writes the file's whole contents to {@code file}, forced to disk. */
  @FunctionalInterface
  interface Contents {
    void writeTo(Path file) throws IOException;
  }
}
