package org.fastllm.modules.checkpoint;

import static org.fastllm.modules.checkpoint.CheckpointFiles.TEMP_PREFIX;
import static org.fastllm.modules.checkpoint.CheckpointFiles.deleteTree;
import static org.fastllm.modules.checkpoint.CheckpointFiles.syncDirectory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Objects;

/**
 * Writes one checkpoint folder so that a crash at any moment leaves the previous checkpoint whole: the files go to a
 * hidden temporary folder ({@code .tmp-step-000100-<pid>}), are forced to disk, and the folder is renamed into place
 * before {@code latest} is replaced, also by rename. A write that fails removes the temporary folder and says so.
 */
final class AtomicFolderWriter {
  /** Production never installs one; see {@link SaveHook}. */
  private static volatile SaveHook hook = SaveHook.NONE;

  private AtomicFolderWriter() {}

  static SaveHook.Installed install(SaveHook installed) {
    Objects.requireNonNull(installed, "hook");
    SaveHook previous = hook;
    hook = installed;
    return () -> hook = previous;
  }

  /** Writes {@code files} in order as the checkpoint of {@code step}, points {@code latest} at it and prunes. */
  static Path save(Path checkpoints, long step, List<PendingFile> files, int keep) throws IOException {
    Files.createDirectories(checkpoints);
    String name = CheckpointFiles.folderName(step);
    Path temp = checkpoints.resolve(TEMP_PREFIX + name + "-" + ProcessHandle.current().pid());
    deleteTree(temp);
    Files.createDirectory(temp);
    try {
      writeAll(temp, step, files);
    } catch (IOException e) {
      try {
        deleteTree(temp);
      } catch (IOException cleanup) {
        e.addSuppressed(cleanup);
        throw new IOException("checkpoint " + name + " could not be written (" + e.getMessage() + "), and its "
            + "temporary folder " + temp + " could not be removed (" + cleanup.getMessage() + ")", e);
      }
      throw new IOException("checkpoint " + name + " could not be written (" + e.getMessage() + "); its temporary "
          + "folder was removed", e);
    }
    Path target = checkpoints.resolve(name);
    replace(checkpoints, name, temp, target);
    pointLatestAt(checkpoints, name);
    CheckpointPruner.prune(checkpoints, name, keep);
    return target;
  }

  private static void writeAll(Path temp, long step, List<PendingFile> files) throws IOException {
    SaveHook current = hook;
    for (PendingFile file : files) {
      Path path = temp.resolve(file.name());
      current.beforeWrite(step, path);
      file.contents().writeTo(path);
    }
    syncDirectory(temp);
  }

  /** A checkpoint of the same step (a resumed run saving it again) is moved aside and removed first. */
  private static void replace(Path checkpoints, String name, Path temp, Path target) throws IOException {
    if (Files.exists(target)) {
      Path old = checkpoints.resolve(TEMP_PREFIX + "old-" + name);
      deleteTree(old);
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
      deleteTree(old);
    }
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    syncDirectory(checkpoints);
  }

  private static void pointLatestAt(Path checkpoints, String name) throws IOException {
    Path pointer = checkpoints.resolve(TEMP_PREFIX + Checkpoint.LATEST);
    Files.deleteIfExists(pointer);
    CheckpointFiles.writeText(pointer, name + "\n");
    Files.move(pointer, checkpoints.resolve(Checkpoint.LATEST), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(checkpoints);
  }
}
