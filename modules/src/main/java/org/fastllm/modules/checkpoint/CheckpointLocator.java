package org.fastllm.modules.checkpoint;

import static org.fastllm.modules.checkpoint.CheckpointFiles.FOLDER_PATTERN;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** Finds checkpoint folders: the one a user's path means, and the others a user may resume instead. */
final class CheckpointLocator {
  private CheckpointLocator() {}

  static Path locate(Path given) {
    if (Files.isRegularFile(given.resolve(CheckpointFiles.STATE))) {
      return given;
    }
    for (Path folder : List.of(given, given.resolve("checkpoints"))) {
      Path latest = folder.resolve(Checkpoint.LATEST);
      if (Files.isRegularFile(latest)) {
        return named(folder, latest);
      }
    }
    throw new CheckpointException(given + ": no checkpoint here (expected a checkpoint folder with state.json, or a "
        + "folder with a 'latest' file or a 'checkpoints/latest' file)");
  }

  private static Path named(Path folder, Path latest) {
    String name;
    try {
      name = Files.readString(latest, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new CheckpointException(latest + ": cannot be read (" + e.getMessage() + ")", e);
    }
    if (!name.matches(FOLDER_PATTERN) || !Files.isDirectory(folder.resolve(name))) {
      throw new CheckpointException(latest + ": names '" + name + "', which is not a checkpoint folder in " + folder);
    }
    return folder.resolve(name);
  }

  static List<Path> others(Path folder) {
    Path parent = folder.toAbsolutePath().getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(parent)) {
      return entries.filter(p -> p.getFileName().toString().matches(FOLDER_PATTERN) && Files.isDirectory(p)
              && !p.getFileName().equals(folder.getFileName()))
          .sorted(Comparator.comparing((Path p) -> p.getFileName().toString()).reversed())
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }
}
