package org.fastllm.dsl.problem;

import java.util.Optional;

/**
 * One thing wrong (or worth a warning) in a config, named by its path in the config.
 *
 * <p>Rendered as {@code run.yaml:7:5: model.block_pattern[1]: unknown block 'bobb' (did you mean 'bob'?)}.
 *
 * @param path the config path in snake_case, with list indices and block names, e.g. {@code model.blocks.bob.num_heads}
 * @param location where in the file the path was read from, when it came from a file
 */
public record Problem(Severity severity, String path, String message, Optional<SourceLocation> location) {

  public static Problem error(String path, String message) {
    return new Problem(Severity.ERROR, path, message, Optional.empty());
  }

  public static Problem warning(String path, String message) {
    return new Problem(Severity.WARNING, path, message, Optional.empty());
  }

  public Problem at(SourceLocation where) {
    return new Problem(severity, path, message, Optional.ofNullable(where));
  }

  public boolean isError() {
    return severity == Severity.ERROR;
  }

  /** The message as a user reads it: location (if any), path, then what is wrong. */
  public String render() {
    String prefix = location.map(l -> l + ": ").orElse("");
    String kind = severity == Severity.WARNING ? "warning: " : "";
    return prefix + kind + path + ": " + message;
  }

  @Override
  public String toString() {
    return render();
  }
}
