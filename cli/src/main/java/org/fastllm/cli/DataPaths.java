package org.fastllm.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.config.DataConfig;

/**
 * The settings that turn a run's relative data paths ({@code data.path}, a {@code tokenizer.json}) into absolute
 * ones, so the config a checkpoint keeps names the same files when the run is resumed from another folder.
 *
 * <pre>{@code
 * // given DataConfig data
 * List<String> settings = DataPaths.absolute(data);   // e.g. data.path='/home/me/corpus.txt'
 * }</pre>
 *
 * <p>Only paths that name an existing file are rewritten: a missing one keeps its place in the file, so the data
 * check reports it at its line.
 */
final class DataPaths {
  private DataPaths() {}

  /** Dotted settings for each relative data path that exists, resolved against the working directory. */
  static List<String> absolute(DataConfig data) {
    List<String> settings = new ArrayList<>();
    setting("data.path", data.path()).ifPresent(settings::add);
    if (!DataConfig.BYTES.equals(data.tokenizer())) {
      setting("data.tokenizer", data.tokenizer()).ifPresent(settings::add);
    }
    return settings;
  }

  private static Optional<String> setting(String key, String value) {
    if (value == null) {
      return Optional.empty();
    }
    Path path = Path.of(value);
    if (path.isAbsolute() || !Files.exists(path)) {
      return Optional.empty();
    }
    return Optional.of(key + "='" + path.toAbsolutePath().normalize().toString().replace("'", "''") + "'");
  }
}
