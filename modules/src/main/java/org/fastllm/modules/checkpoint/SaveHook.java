package org.fastllm.modules.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Runs inside every checkpoint save just before each of its files is written into the save's temporary folder: the
 * seam through which tests make a save fail or stall part-way (a full disk, a kill in the middle of a save), which
 * no switch inside the save itself has to know about.
 *
 * <pre>{@code
 * // given Trainer trainer, Trainer.Listener listener
 * SaveHook fullDisk = (step, file) -> {
 *   if (step == 4 && file.endsWith("optimizer.safetensors")) {
 *     throw new IOException("No space left on device");
 *   }
 * };
 * try (SaveHook.Installed installed = SaveHook.install(fullDisk)) {
 *   trainer.run(listener);   // the save of step 4 fails; step 2 stays the latest checkpoint
 * }
 * }</pre>
 *
 * <p><b>Production code installs none</b>: without one, {@link #NONE} runs and a save does exactly what
 * {@link Checkpoint#save} says. The hook is one for the whole JVM, like the disk it stands in for.
 */
@FunctionalInterface
public interface SaveHook {
  /** The hook of every JVM that installed none: does nothing. */
  SaveHook NONE = (step, file) -> { };

  /**
   * Called before {@code file} (in the temporary folder of the save of {@code step}) is written. An
   * {@link IOException} fails the save as a failed write does; anything else escapes the save as a crash would,
   * leaving the temporary folder behind.
   */
  void beforeWrite(long step, Path file) throws IOException;

  /** Makes {@code hook} run in every later save of this JVM, until the returned handle is closed. */
  static Installed install(SaveHook hook) {
    return AtomicFolderWriter.install(hook);
  }

  /** An installed hook; closing it puts back the hook that was installed before. */
  interface Installed extends AutoCloseable {
    @Override
    void close();
  }
}
