package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which folder a user's path means, and which others a user may resume instead. */
class CheckpointLocatorTest {
  @TempDir Path run;
  Path checkpoints;

  @BeforeEach
  void twoCheckpoints() throws IOException {
    checkpoints = run.resolve("checkpoints");
    for (String name : List.of("step-000002", "step-000004", ".tmp-step-000006-1")) {
      Files.createDirectories(checkpoints.resolve(name));
      Files.writeString(checkpoints.resolve(name).resolve("state.json"), "{}");
    }
    Files.writeString(checkpoints.resolve("latest"), "step-000004\n");
  }

  @Test
  void locate_runCheckpointsOrCheckpointFolder_meanTheSameCheckpoint() {
    Path latest = checkpoints.resolve("step-000004");

    assertThat(Checkpoint.locate(run)).isEqualTo(latest);
    assertThat(Checkpoint.locate(checkpoints)).isEqualTo(latest);
    assertThat(Checkpoint.locate(latest)).isEqualTo(latest);
    assertThat(Checkpoint.locate(checkpoints.resolve("step-000002"))).isEqualTo(checkpoints.resolve("step-000002"));
  }

  @Test
  void locate_latestNamingAMissingFolder_namesTheLatestFile() throws IOException {
    Files.writeString(checkpoints.resolve("latest"), "step-000009\n");

    CheckpointException e = catchThrowableOfType(CheckpointException.class, () -> Checkpoint.locate(run));
    assertThat(e).as("expected CheckpointException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo(checkpoints.resolve("latest") + ": names 'step-000009', which is not a checkpoint folder in "
            + checkpoints);
  }

  @Test
  void locate_folderWithoutCheckpoint_saysWhatItExpected() {
    Path empty = run.resolve("checkpoints/step-000002/nothing");

    CheckpointException e = catchThrowableOfType(CheckpointException.class, () -> Checkpoint.locate(empty));
    assertThat(e).as("expected CheckpointException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo(empty + ": no checkpoint here (expected a checkpoint folder with state.json, or a folder with a "
            + "'latest' file or a 'checkpoints/latest' file)");
  }

  @Test
  void others_ofTheLatest_areTheOtherCheckpointFoldersNewestFirst() throws IOException {
    Files.createDirectories(checkpoints.resolve("step-000001"));

    assertThat(Checkpoint.others(checkpoints.resolve("step-000004")))
        .isEqualTo(List.of(checkpoints.resolve("step-000002"), checkpoints.resolve("step-000001")));
  }
}
