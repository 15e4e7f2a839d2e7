package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.cli.RunFolder.Reuse;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunFolderTest {
  @TempDir Path dir;
  final StringWriter warnings = new StringWriter();
  final PrintWriter err = new PrintWriter(warnings, true);

  static final String THIS_PROCESS = "PID " + ProcessHandle.current().pid() + " on host ";

  private Path pastRun(String name) throws IOException {
    Path folder = dir.resolve(name);
    Files.createDirectories(folder.resolve("checkpoints/step-000010"));
    Files.writeString(folder.resolve("metrics.jsonl"), "{\"step\":1}\n");
    Files.writeString(folder.resolve("loss.png"), "png");
    return folder;
  }

  @Nested
  class Lock {
    @Test
    void claim_freeFolder_createsItAndHoldsALockNamingThisProcessUntilClosed() throws IOException {
      Path folder = dir.resolve("a/b");

      try (RunFolder claimed = RunFolder.claim(folder, true, Reuse.REFUSE, err)) {
        assertThat(claimed.path()).isEqualTo(folder);
        assertThat(claimed.moved()).isFalse();
        assertThat(Files.readString(folder.resolve(RunFolder.LOCK))).startsWith(THIS_PROCESS);
      }

      assertThat(folder.resolve(RunFolder.LOCK)).doesNotExist();
      assertThat(warnings.toString()).isEmpty();
    }

    @Test
    void claim_folderHeldByAnotherRun_isRefusedNamingTheHoldersPidAndHost() {
      Path folder = dir.resolve("run");
      try (RunFolder first = RunFolder.claim(folder, true, Reuse.REFUSE, err)) {
        assertThatThrownBy(() -> RunFolder.claim(folder, true, Reuse.RESUME, err))
            .isInstanceOf(RunFolderException.class)
            .hasMessageStartingWith(folder + ": in use by another run (" + THIS_PROCESS)
            .hasMessageEndingWith(", lock file " + folder.resolve(RunFolder.LOCK)
                + ") — wait for it to finish or choose another training.output_dir");
      }
      RunFolder.claim(folder, true, Reuse.REFUSE, err).close();
    }

    @Test
    void claim_staleLockOfADeadProcess_isTakenOverWithAWarning() throws IOException {
      Path folder = dir.resolve("run");
      Files.createDirectories(folder);
      Files.writeString(folder.resolve(RunFolder.LOCK), "PID 999999 on host gone\n");

      try (RunFolder claimed = RunFolder.claim(folder, true, Reuse.REFUSE, err)) {
        assertThat(Files.readString(folder.resolve(RunFolder.LOCK))).startsWith(THIS_PROCESS);
      }

      assertThat(warnings.toString()).isEqualTo("warning: " + folder.resolve(RunFolder.LOCK) + ": taking over the "
          + "lock of a run that is no longer running (PID 999999 on host gone)" + System.lineSeparator());
    }
  }

  @Nested
  class NamedFolder {
    @Test
    void claim_namedFolderHoldingARun_isRefusedSayingWhatIsThereAndHowToGoOn() throws IOException {
      Path folder = pastRun("run");

      assertThatThrownBy(() -> RunFolder.claim(folder, true, Reuse.REFUSE, err))
          .isInstanceOf(RunFolderException.class)
          .hasMessage(folder + ": already holds a run (metrics.jsonl, checkpoints/ with step-000010) — continue it "
              + "with --resume " + folder + ", replace it with --overwrite, or choose another training.output_dir");
      assertThat(folder.resolve("metrics.jsonl")).exists();
      assertThat(folder.resolve(RunFolder.LOCK)).doesNotExist();
    }

    @Test
    void claim_overwrite_deletesTheOldRunsFilesOnly() throws IOException {
      Path folder = pastRun("run");
      Files.writeString(folder.resolve("notes.txt"), "mine");

      RunFolder.claim(folder, true, Reuse.OVERWRITE, err).close();

      assertThat(folder.resolve("metrics.jsonl")).doesNotExist();
      assertThat(folder.resolve("loss.png")).doesNotExist();
      assertThat(folder.resolve("checkpoints")).doesNotExist();
      assertThat(folder.resolve("notes.txt")).hasContent("mine");
    }

    @Test
    void claim_resume_keepsTheRunsFiles() throws IOException {
      Path folder = pastRun("run");

      try (RunFolder claimed = RunFolder.claim(folder, false, Reuse.RESUME, err)) {
        assertThat(claimed.path()).isEqualTo(folder);
      }

      assertThat(folder.resolve("checkpoints/step-000010")).isDirectory();
      assertThat(folder.resolve("metrics.jsonl")).exists();
    }

    @Test
    void claim_emptyCheckpointsFolderOrOnlyLogs_isNoRun() throws IOException {
      Path folder = dir.resolve("run");
      Files.createDirectories(folder.resolve("checkpoints"));
      Files.writeString(folder.resolve("rank-1.log"), "");

      RunFolder.claim(folder, true, Reuse.REFUSE, err).close();
    }
  }

  @Nested
  class DefaultFolder {
    @Test
    void claim_defaultFolderHoldingARun_movesToTheFirstFreeNumberedName() throws IOException {
      Path folder = pastRun("fastllm-run");
      pastRun("fastllm-run-2");

      try (RunFolder claimed = RunFolder.claim(folder, false, Reuse.REFUSE, err)) {
        assertThat(claimed.path()).isEqualTo(dir.resolve("fastllm-run-3"));
        assertThat(claimed.moved()).isTrue();
      }
      assertThat(folder.resolve("metrics.jsonl")).exists();
    }

    @Test
    void claim_defaultFolderInUse_movesOn() {
      Path folder = dir.resolve("fastllm-run");
      try (RunFolder first = RunFolder.claim(folder, false, Reuse.REFUSE, err);
          RunFolder second = RunFolder.claim(folder, false, Reuse.REFUSE, err)) {
        assertThat(first.path()).isEqualTo(folder);
        assertThat(second.path()).isEqualTo(dir.resolve("fastllm-run-2"));
      }
    }

    @Test
    void claim_defaultFolderFree_staysThere() {
      try (RunFolder claimed = RunFolder.claim(dir.resolve("fastllm-run"), false, Reuse.REFUSE, err)) {
        assertThat(claimed.moved()).isFalse();
      }
    }
  }

  @Nested
  class Writable {
    @Test
    void claim_fileWhereTheFolderShouldBe_isRefusedNamingIt() throws IOException {
      Path file = Files.writeString(dir.resolve("afile"), "x");

      assertThatThrownBy(() -> RunFolder.claim(file, true, Reuse.REFUSE, err))
          .hasMessage(file + ": is a file, not a folder — training.output_dir must be a folder (choose another or "
              + "remove the file)");
    }

    @Test
    void claim_fileAboveTheFolder_isRefusedNamingIt() throws IOException {
      Path file = Files.writeString(dir.resolve("afile"), "x");

      assertThatThrownBy(() -> RunFolder.claim(file.resolve("run"), true, Reuse.REFUSE, err))
          .hasMessage(file + ": is a file, where the folder of " + file.resolve("run") + " should be");
    }

    @Test
    void claim_fileAtCheckpoints_isRefusedBeforeStepOne() throws IOException {
      Path folder = Files.createDirectories(dir.resolve("run"));
      Files.writeString(folder.resolve("checkpoints"), "x");

      assertThatThrownBy(() -> RunFolder.claim(folder, true, Reuse.REFUSE, err))
          .hasMessage(folder.resolve("checkpoints") + ": is a file, where the run keeps its checkpoints folder — "
              + "remove or rename it");
      assertThat(folder.resolve(RunFolder.LOCK)).doesNotExist();
    }

    @Test
    void claim_folderAtMetrics_isRefused() throws IOException {
      Path folder = Files.createDirectories(dir.resolve("run/metrics.jsonl")).getParent();

      assertThatThrownBy(() -> RunFolder.claim(folder, false, Reuse.RESUME, err))
          .hasMessage(folder.resolve("metrics.jsonl") + ": is a folder, where the run writes a file — remove or "
              + "rename it");
    }
  }
}
