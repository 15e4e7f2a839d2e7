package org.fastllm.modules.checkpoint;

import static org.fastllm.modules.checkpoint.CheckpointFiles.TEMP_PREFIX;
import static org.fastllm.modules.checkpoint.CheckpointFiles.deleteTree;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * After a save: keeps the newest {@code keep} checkpoint folders (the one just saved among them) and removes the
 * temporary folders that saves of other, killed processes left behind.
 */
final class CheckpointPruner {
  private CheckpointPruner() {}

  static void prune(Path checkpoints, String current, int keep) throws IOException {
    String ownSuffix = "-" + ProcessHandle.current().pid();
    List<Path> saves = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(checkpoints)) {
      for (Path p : entries) {
        String n = p.getFileName().toString();
        if (n.startsWith(TEMP_PREFIX) && Files.isDirectory(p) && !n.endsWith(ownSuffix)) {
          deleteTree(p);
        } else if (n.startsWith("step-") && Files.isDirectory(p) && !n.equals(current)) {
          saves.add(p);
        }
      }
    }
    saves.sort(Comparator.comparing(p -> p.getFileName().toString()));
    for (int i = 0; i < saves.size() - (keep - 1); i++) {
      deleteTree(saves.get(i));
    }
  }
}
