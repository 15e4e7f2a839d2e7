package org.fastllm.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Checks, before step 1, that a run's folder and files can be written, and says why a write failed: permission
 * denied, a folder where a file should be (or the reverse), no space left; always with the path.
 *
 * <pre>{@code
 * // given java.io.IOException e
 * String message = WritableFiles.why(e, Path.of("fastllm-run/metrics.jsonl"));
 * }</pre>
 *
 * <p><b>{@code why} never returns a bare path:</b> Java's file exceptions carry the path as their message and the
 * reason only in their type, which {@code error: afile} showed users.
 */
final class WritableFiles {
  private WritableFiles() {}

  /** Creates {@code folder} (and its parents) when needed; refuses a file in its place or a folder not writable. */
  static void folder(Path folder) {
    if (Files.exists(folder) && !Files.isDirectory(folder)) {
      throw new RunFolderException(folder + ": is a file, not a folder — training.output_dir must be a folder "
          + "(choose another or remove the file)");
    }
    for (Path above = folder.toAbsolutePath().getParent(); above != null; above = above.getParent()) {
      if (Files.exists(above) && !Files.isDirectory(above)) {
        throw new RunFolderException(above + ": is a file, where the folder of " + folder + " should be");
      }
    }
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new RunFolderException(why(e, folder));
    }
    if (!Files.isWritable(folder)) {
      throw new RunFolderException(folder + ": permission denied — the run's folder must be writable");
    }
  }

  /** The files every run writes in {@code folder}: metrics.jsonl and loss.png are files, checkpoints/ a folder. */
  static void runFiles(Path folder) {
    for (String name : new String[] {"metrics.jsonl", "loss.png"}) {
      Path file = folder.resolve(name);
      if (Files.isDirectory(file)) {
        throw new RunFolderException(file + ": is a folder, where the run writes a file — remove or rename it");
      }
      if (Files.exists(file) && !Files.isWritable(file)) {
        throw new RunFolderException(file + ": permission denied — the run writes this file");
      }
    }
    Path checkpoints = folder.resolve("checkpoints");
    if (Files.exists(checkpoints) && !Files.isDirectory(checkpoints)) {
      throw new RunFolderException(checkpoints + ": is a file, where the run keeps its checkpoints folder — remove "
          + "or rename it");
    }
    if (Files.isDirectory(checkpoints) && !Files.isWritable(checkpoints)) {
      throw new RunFolderException(checkpoints + ": permission denied — the run saves its checkpoints here");
    }
  }

  /**
   * {@code PATH: reason}, for any failed write; {@code path} names the file when the exception does not. A message
   * the writer composed itself (not one of Java's file exceptions) is kept as it is.
   */
  static String why(IOException e, Path path) {
    if (!(e instanceof FileSystemException)) {
      // The writers' own exceptions (a checkpoint, the metrics log) already name what they wrote and why.
      return e.getMessage() == null ? path + ": " + e.getClass().getSimpleName() : e.getMessage();
    }
    String file = e instanceof FileSystemException f && f.getFile() != null ? f.getFile() : path.toString();
    String reason = e instanceof FileSystemException f ? f.getReason() : e.getMessage();
    String lower = reason == null ? "" : reason.toLowerCase(Locale.ROOT);
    if (e instanceof AccessDeniedException || lower.contains("permission denied")) {
      return file + ": permission denied";
    }
    if (e instanceof FileAlreadyExistsException) {
      return file + ": is a file, where a folder should be";
    }
    if (e instanceof NotDirectoryException || lower.contains("not a directory")) {
      return file + ": a file is in the way, where a folder should be";
    }
    if (lower.contains("is a directory")) {
      return file + ": is a folder, where a file should be";
    }
    if (lower.contains("no space left")) {
      return file + ": no space left on the device";
    }
    if (e instanceof NoSuchFileException) {
      return file + ": no such file or folder";
    }
    return file + ": " + (reason == null ? e.getClass().getSimpleName() : reason);
  }
}
