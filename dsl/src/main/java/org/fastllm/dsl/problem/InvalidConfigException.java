package org.fastllm.dsl.problem;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown when a config cannot be used; carries every problem found, not only the first.
 *
 * <pre>{@code
 * // given ConfigLoader loader, Path path, PrintStream out
 * try { loader.load(path); } catch (InvalidConfigException e) { e.problems().forEach(p -> out.println(p.render())); }
 * }</pre>
 */
public final class InvalidConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final transient List<Problem> problems;

  public InvalidConfigException(List<Problem> problems) {
    super(problems.stream().map(Problem::render).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public static InvalidConfigException of(Problem problem) {
    return new InvalidConfigException(List.of(problem));
  }

  /** Every problem, errors and warnings, in the order they were found. */
  public List<Problem> problems() {
    return problems;
  }

  public List<Problem> errors() {
    return problems.stream().filter(Problem::isError).toList();
  }
}
