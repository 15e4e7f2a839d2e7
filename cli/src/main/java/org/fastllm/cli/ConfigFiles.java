package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/** Reading a config file the way every command does: through the standard loader, its warnings on stderr. */
final class ConfigFiles {
  private ConfigFiles() {}

  /** The loaded config; warnings are printed to {@code err}, problems thrown as for any invalid config. */
  static LoadedConfig load(Path file, PrintWriter err) {
    LoadedConfig config = ConfigLoader.standard().load(file);
    config.warnings().stream().map(Problem::render).forEach(err::println);
    return config;
  }
}
