package org.fastllm.modules.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The atomic save on plain text files: what a failed, a crashed and a repeated save leave on disk. */
class AtomicFolderWriterTest {
  @TempDir Path checkpoints;

  /** The four files of a checkpoint, each holding its name and the step. */
  private static List<PendingFile> files(long step) {
    return Stream.of("config.yaml", "model.safetensors", "optimizer.safetensors", "state.json")
        .map(name -> new PendingFile(name, file -> CheckpointFiles.writeText(file, name + " of " + step)))
        .toList();
  }

  private List<String> entries() throws IOException {
    try (Stream<Path> entries = Files.list(checkpoints)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private Path save(long step, int keep) throws IOException {
    return AtomicFolderWriter.save(checkpoints, step, files(step), keep);
  }

  @Test
  void save_twoSteps_writesEveryFileAndPointsLatestAtTheNewest() throws IOException {
    save(2, 3);
    Path second = save(4, 3);

    assertEquals(checkpoints.resolve("step-000004"), second);
    assertEquals(List.of("latest", "step-000002", "step-000004"), entries());
    assertEquals("step-000004\n", Files.readString(checkpoints.resolve("latest")));
    assertEquals("state.json of 4", Files.readString(second.resolve("state.json")));
    try (Stream<Path> written = Files.list(second)) {
      assertEquals(List.of("config.yaml", "model.safetensors", "optimizer.safetensors", "state.json"),
          written.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void save_writeFailsPartWay_removesItsTemporaryFolderAndKeepsThePreviousCheckpoint() throws IOException {
    save(2, 3);
    SaveHook fullDisk = (step, file) -> {
      if (step == 4 && file.endsWith("optimizer.safetensors")) {
        throw new IOException("No space left on device");
      }
    };

    IOException e;
    try (SaveHook.Installed installed = SaveHook.install(fullDisk)) {
      e = assertThrows(IOException.class, () -> save(4, 3));
    }

    assertEquals("checkpoint step-000004 could not be written (No space left on device); its temporary folder was "
        + "removed", e.getMessage());
    assertEquals(List.of("latest", "step-000002"), entries());
    assertEquals("step-000002\n", Files.readString(checkpoints.resolve("latest")));
    assertEquals(checkpoints.resolve("step-000002"), Checkpoint.locate(checkpoints));
  }

  /** A hook throwing what the save does not catch stands for a kill: the save stops where it is, nothing cleans up. */
  @Test
  void save_crashedMidSave_leavesThePreviousCheckpointWholeAndLatestOnIt() throws IOException {
    save(2, 3);
    SaveHook crash = (step, file) -> {
      if (file.endsWith("state.json")) {
        throw new IllegalStateException("killed");
      }
    };

    try (SaveHook.Installed installed = SaveHook.install(crash)) {
      assertThrows(IllegalStateException.class, () -> save(4, 3));
    }

    Path left = checkpoints.resolve(".tmp-step-000004-" + ProcessHandle.current().pid());
    assertEquals(List.of(left.getFileName().toString(), "latest", "step-000002"), entries());
    assertTrue(Files.exists(left.resolve("optimizer.safetensors")));
    assertFalse(Files.exists(left.resolve("state.json")));
    assertEquals(checkpoints.resolve("step-000002"), Checkpoint.locate(checkpoints));
    assertEquals("state.json of 2", Files.readString(checkpoints.resolve("step-000002/state.json")));
  }

  @Test
  void save_afterAKilledProcessLeftATemporaryFolder_removesIt() throws IOException {
    save(2, 3);
    Path leftover = Files.createDirectory(checkpoints.resolve(".tmp-step-000004-" + (ProcessHandle.current().pid()
        + 1)));
    Files.writeString(leftover.resolve("model.safetensors"), "partial");

    save(4, 3);

    assertEquals(List.of("latest", "step-000002", "step-000004"), entries());
  }

  @Test
  void save_afterItsOwnCrashedSaveOfTheSameStep_startsAfresh() throws IOException {
    try (SaveHook.Installed installed = SaveHook.install((step, file) -> {
      throw new IllegalStateException("killed");
    })) {
      assertThrows(IllegalStateException.class, () -> save(4, 3));
    }

    save(4, 3);

    assertEquals(List.of("latest", "step-000004"), entries());
  }

  @Test
  void save_keepTwo_keepsTheTwoNewestCheckpoints() throws IOException {
    for (long step = 1; step <= 5; step++) {
      save(step, 2);
    }

    assertEquals(List.of("latest", "step-000004", "step-000005"), entries());
  }

  @Test
  void save_stepAlreadySaved_replacesThatCheckpoint() throws IOException {
    save(4, 3);
    Files.writeString(checkpoints.resolve("step-000004/stale.txt"), "from the first save");

    save(4, 3);

    assertEquals(List.of("latest", "step-000004"), entries());
    assertFalse(Files.exists(checkpoints.resolve("step-000004/stale.txt")));
  }

  @Test
  void install_closed_putsBackThePreviousHook() throws IOException {
    try (SaveHook.Installed installed = SaveHook.install((step, file) -> {
      throw new IOException("No space left on device");
    })) {
      assertThrows(IOException.class, () -> save(2, 3));
    }

    save(2, 3);

    assertEquals(List.of("latest", "step-000002"), entries());
  }
}
