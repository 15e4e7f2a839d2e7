package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

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

    assertThat(second).isEqualTo(checkpoints.resolve("step-000004"));
    assertThat(entries()).isEqualTo(List.of("latest", "step-000002", "step-000004"));
    assertThat(Files.readString(checkpoints.resolve("latest"))).isEqualTo("step-000004\n");
    assertThat(Files.readString(second.resolve("state.json"))).isEqualTo("state.json of 4");
    try (Stream<Path> written = Files.list(second)) {
      assertThat(written.map(p -> p.getFileName().toString()).sorted().toList())
          .isEqualTo(List.of("config.yaml", "model.safetensors", "optimizer.safetensors", "state.json"));
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
      e = catchThrowableOfType(IOException.class, () -> save(4, 3));
      assertThat(e).as("expected IOException to be thrown").isNotNull();
    }

    assertThat(e.getMessage())
        .isEqualTo("checkpoint step-000004 could not be written (No space left on device); its temporary folder was "
            + "removed");
    assertThat(entries()).isEqualTo(List.of("latest", "step-000002"));
    assertThat(Files.readString(checkpoints.resolve("latest"))).isEqualTo("step-000002\n");
    assertThat(Checkpoint.locate(checkpoints)).isEqualTo(checkpoints.resolve("step-000002"));
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
      assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> save(4, 3));
    }

    Path left = checkpoints.resolve(".tmp-step-000004-" + ProcessHandle.current().pid());
    assertThat(entries()).isEqualTo(List.of(left.getFileName().toString(), "latest", "step-000002"));
    assertThat(Files.exists(left.resolve("optimizer.safetensors"))).isTrue();
    assertThat(Files.exists(left.resolve("state.json"))).isFalse();
    assertThat(Checkpoint.locate(checkpoints)).isEqualTo(checkpoints.resolve("step-000002"));
    assertThat(Files.readString(checkpoints.resolve("step-000002/state.json"))).isEqualTo("state.json of 2");
  }

  @Test
  void save_afterAKilledProcessLeftATemporaryFolder_removesIt() throws IOException {
    save(2, 3);
    Path leftover = Files.createDirectory(checkpoints.resolve(".tmp-step-000004-" + (ProcessHandle.current().pid()
        + 1)));
    Files.writeString(leftover.resolve("model.safetensors"), "partial");

    save(4, 3);

    assertThat(entries()).isEqualTo(List.of("latest", "step-000002", "step-000004"));
  }

  @Test
  void save_afterItsOwnCrashedSaveOfTheSameStep_startsAfresh() throws IOException {
    try (SaveHook.Installed installed = SaveHook.install((step, file) -> {
      throw new IllegalStateException("killed");
    })) {
      assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> save(4, 3));
    }

    save(4, 3);

    assertThat(entries()).isEqualTo(List.of("latest", "step-000004"));
  }

  @Test
  void save_keepTwo_keepsTheTwoNewestCheckpoints() throws IOException {
    for (long step = 1; step <= 5; step++) {
      save(step, 2);
    }

    assertThat(entries()).isEqualTo(List.of("latest", "step-000004", "step-000005"));
  }

  @Test
  void save_stepAlreadySaved_replacesThatCheckpoint() throws IOException {
    save(4, 3);
    Files.writeString(checkpoints.resolve("step-000004/stale.txt"), "from the first save");

    save(4, 3);

    assertThat(entries()).isEqualTo(List.of("latest", "step-000004"));
    assertThat(Files.exists(checkpoints.resolve("step-000004/stale.txt"))).isFalse();
  }

  @Test
  void install_closed_putsBackThePreviousHook() throws IOException {
    try (SaveHook.Installed installed = SaveHook.install((step, file) -> {
      throw new IOException("No space left on device");
    })) {
      assertThatExceptionOfType(IOException.class).isThrownBy(() -> save(2, 3));
    }

    save(2, 3);

    assertThat(entries()).isEqualTo(List.of("latest", "step-000002"));
  }
}
