package org.fastllm.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.fastllm.modules.distributed.DistributedLaunch;

/**
 * The {@code training.output_dir} a run owns for its life: a lock file in it names the holder, so a second run on
 * the folder is refused, and a new run never writes over another run's files.
 *
 * <pre>{@code
 * // given PrintWriter err
 * try (RunFolder folder = RunFolder.claim(Path.of("fastllm-run"), false, RunFolder.Reuse.REFUSE, err)) {
 *   Path output = folder.path(); // fastllm-run, or fastllm-run-2 when fastllm-run holds a run
 * }
 * }</pre>
 *
 * <p><b>A folder named explicitly that holds a run is refused unless resumed or overwritten; the default folder
 * moves to the first free {@code NAME-2}, {@code NAME-3}, ...</b> A lock whose holder died (the operating system
 * released it) is taken over with a warning. A process started by {@code --nproc} uses its launcher's lock.
 */
final class RunFolder implements AutoCloseable {
  /** The lock file's name in the run folder. */
  static final String LOCK = "run.lock";
  /** The files of a run that {@link Reuse#OVERWRITE} deletes; a run is there when one of the first two is. */
  static final List<String> RUN_FILES = List.of("metrics.jsonl", "checkpoints", "loss.png");

  /** What to do with a folder that already holds a run. */
  enum Reuse { REFUSE, RESUME, OVERWRITE }

  private final Path path;
  private final boolean moved;
  private final FileChannel channel;
  private final FileLock lock;

  private RunFolder(Path path, boolean moved, FileChannel channel, FileLock lock) {
    this.path = path;
    this.moved = moved;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Claims {@code folder} (or, when not {@code explicit}, the first free {@code folder-N}), checks that the run's
   * files can be written there and holds its lock until {@link #close}.
   *
   * @throws RunFolderException naming the holder, the run that is there, or why a file cannot be written
   */
  static RunFolder claim(Path folder, boolean explicit, Reuse reuse, PrintWriter err) {
    if (explicit || reuse == Reuse.RESUME) {
      return lock(folder, false, err).map(claimed -> claimed.madeRoom(reuse)).orElseThrow(() -> new RunFolderException(
          folder + ": in use by another run (" + holder(folder).orElse("holder unknown") + ", lock file "
              + folder.resolve(LOCK) + ") — wait for it to finish or choose another training.output_dir"));
    }
    for (int n = 1; ; n++) {
      Path candidate = n == 1 ? folder : folder.resolveSibling(folder.getFileName() + "-" + n);
      Optional<RunFolder> claimed = lock(candidate, n > 1, err);
      if (claimed.isPresent() && (claimed.get().lock == null || existingRun(candidate).isEmpty())) {
        return claimed.get().madeRoom(Reuse.REFUSE);
      }
      claimed.ifPresent(RunFolder::close);
    }
  }

  /** The folder the run writes to. */
  Path path() {
    return path;
  }

  /** Whether the default folder held a run and this one is a fresh {@code NAME-N}. */
  boolean moved() {
    return moved;
  }

  /** Deletes the lock file and releases the lock; nothing for a folder whose lock is the launcher's. */
  @Override
  public void close() {
    if (lock == null) {
      return;
    }
    try (channel) {
      Files.deleteIfExists(path.resolve(LOCK));
      lock.release();
    } catch (IOException e) {
      // The run's files are written; a lock file left behind is taken over by the next run as a stale one.
    }
  }

  /** The folder locked by this process, or by the launcher that started it; empty when another process holds it. */
  private static Optional<RunFolder> lock(Path folder, boolean moved, PrintWriter err) {
    Path file = folder.resolve(LOCK);
    WritableFiles.folder(folder);
    if (heldByLauncher(folder)) {
      return Optional.of(new RunFolder(folder, moved, null, null));
    }
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new RunFolderException(WritableFiles.why(e, file));
    }
    try {
      FileLock lock;
      try {
        lock = channel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        channel.close();
        return Optional.empty();
      }
      String before = read(channel);
      if (!before.isBlank()) {
        err.println("warning: " + file + ": taking over the lock of a run that is no longer running ("
            + before.strip() + ")");
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(holderLine().getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(true);
      return Optional.of(new RunFolder(folder, moved, channel, lock));
    } catch (IOException e) {
      closeAfterFailure(channel);
      throw new RunFolderException(WritableFiles.why(e, file));
    }
  }

  private static void closeAfterFailure(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // The failure being reported says more than this one.
    }
  }

  /**
   * Refuses (or, for {@link Reuse#OVERWRITE}, deletes) another run's files unless resuming, then checks that the
   * new run's files can be written.
   */
  private RunFolder madeRoom(Reuse reuse) {
    try {
      makeRoom(reuse);
      return this;
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private void makeRoom(Reuse reuse) {
    if (lock == null) {
      return;
    }
    List<String> there = existingRun(path);
    if (!there.isEmpty() && reuse == Reuse.REFUSE) {
      throw new RunFolderException(path + ": already holds a run (" + String.join(", ", there)
          + ") — continue it with --resume " + path + ", replace it with --overwrite, or choose another "
          + "training.output_dir");
    }
    if (reuse == Reuse.OVERWRITE) {
      for (String name : RUN_FILES) {
        delete(path.resolve(name));
      }
    }
    WritableFiles.runFiles(path);
  }

  /** What shows that a run was here: its metrics, its checkpoints; empty when none. */
  static List<String> existingRun(Path folder) {
    List<String> there = new ArrayList<>();
    if (Files.exists(folder.resolve("metrics.jsonl"))) {
      there.add("metrics.jsonl");
    }
    Path checkpoints = folder.resolve("checkpoints");
    if (Files.isDirectory(checkpoints)) {
      try (Stream<Path> saved = Files.list(checkpoints)) {
        List<String> names = saved.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("step-")).sorted()
            .toList();
        if (!names.isEmpty()) {
          there.add("checkpoints/ with " + String.join(", ", names));
        }
      } catch (IOException e) {
        there.add("checkpoints/");
      }
    }
    return there;
  }

  private static void delete(Path file) {
    if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> tree = Files.walk(file)) {
      for (Path p : tree.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new RunFolderException(WritableFiles.why(e, file) + " (clearing the old run for --overwrite)");
    }
  }

  /** Who holds the folder's lock, as its lock file says: {@code PID 123 on host h}. */
  static Optional<String> holder(Path folder) {
    try {
      String line = Files.readString(folder.resolve(LOCK), StandardCharsets.UTF_8).strip();
      return line.isEmpty() ? Optional.empty() : Optional.of(line);
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /** A rank started by {@code --nproc} writes into the folder its launcher (its parent process) has locked. */
  private static boolean heldByLauncher(Path folder) {
    Optional<Long> parent = ProcessHandle.current().parent().map(ProcessHandle::pid);
    return parent.isPresent() && holder(folder).filter(h -> h.equals(holderLine(parent.get()).strip())).isPresent()
        && System.getenv(DistributedLaunch.WORLD_SIZE) != null;
  }

  private static String holderLine() {
    return holderLine(ProcessHandle.current().pid());
  }

  private static String holderLine(long pid) {
    return "PID " + pid + " on host " + host() + "\n";
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String read(FileChannel channel) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(channel.size(), 4096));
    channel.read(buffer, 0);
    return new String(buffer.array(), 0, buffer.position(), StandardCharsets.UTF_8);
  }
}
