package org.fastllm.dsl.problem;

/**
 * A place in a config file, 1-based line and column.
 *
 * <pre>{@code new SourceLocation("run.yaml", 12, 5).toString()  // "run.yaml:12:5"}</pre>
 */
public record SourceLocation(String source, int line, int column) {

  @Override
  public String toString() {
    return source + ":" + line + ":" + column;
  }
}
