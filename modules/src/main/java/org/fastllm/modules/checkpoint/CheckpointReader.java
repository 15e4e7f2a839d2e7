package org.fastllm.modules.checkpoint;

import static org.fastllm.modules.checkpoint.CheckpointFiles.CONFIG;
import static org.fastllm.modules.checkpoint.CheckpointFiles.MODEL;
import static org.fastllm.modules.checkpoint.CheckpointFiles.OPTIMIZER;
import static org.fastllm.modules.checkpoint.CheckpointFiles.STATE;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads one checkpoint folder and verifies every file before anything is used: each problem is a
 * {@link CheckpointException} whose message starts with the file at fault and says what is wrong with it.
 */
final class CheckpointReader {
  private CheckpointReader() {}

  static Checkpoint.Loaded read(Path folder) {
    TrainState state = readState(folder.resolve(STATE));
    boolean headerChecksums = state.formatVersion() >= 2;
    String config = readConfig(folder.resolve(CONFIG));
    Safetensors.Contents model = readTensors(folder.resolve(MODEL), headerChecksums);
    Safetensors.Contents optimizer = readTensors(folder.resolve(OPTIMIZER), headerChecksums);
    String steps = optimizer.metadata().get("steps");
    if (steps != null && !steps.equals(Long.toString(state.step()))) {
      throw new CheckpointException(folder.resolve(OPTIMIZER) + ": holds the optimizer of step " + steps + ", but "
          + STATE + " is of step " + state.step() + " (files of different saves)");
    }
    return new Checkpoint.Loaded(folder, config, model.tensors(), model.metadata(), optimizer.tensors(), state);
  }

  private static TrainState readState(Path file) {
    TrainState state;
    try {
      state = Checkpoint.JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), TrainState.class);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (JsonProcessingException e) {
      throw new CheckpointException(file + ": not a valid state file (" + e.getOriginalMessage().lines().findFirst()
          .orElse("") + ", line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")",
          e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
    if (state == null) {
      throw new CheckpointException(file + ": empty (the checkpoint is damaged)");
    }
    if (state.formatVersion() < 1 || state.formatVersion() > Checkpoint.FORMAT_VERSION) {
      throw new CheckpointException(file + ": checkpoint format version " + state.formatVersion()
          + ", this build reads versions 1 to " + Checkpoint.FORMAT_VERSION);
    }
    if (state.step() < 0 || state.microBatches() < 0) {
      throw new CheckpointException(file + ": step " + state.step() + " and micro_batches " + state.microBatches()
          + " must not be negative (the checkpoint is damaged)");
    }
    return state;
  }

  private static String readConfig(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (MalformedInputException e) {
      throw new CheckpointException(file + ": not UTF-8 text (the checkpoint is damaged)", e);
    } catch (IOException e) {
      throw new CheckpointException(file + ": cannot be read (" + e.getMessage() + ")", e);
    }
  }

  private static Safetensors.Contents readTensors(Path file, boolean headerChecksum) {
    try {
      return Safetensors.read(file, headerChecksum);
    } catch (NoSuchFileException e) {
      throw missing(file, e);
    } catch (IOException e) {
      String message = e.getMessage();
      throw new CheckpointException(message.startsWith(file.toString()) ? message : file + ": " + message, e);
    }
  }

  private static CheckpointException missing(Path file, NoSuchFileException e) {
    return new CheckpointException(file + ": missing (the checkpoint is incomplete)", e);
  }
}
