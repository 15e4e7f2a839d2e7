package org.fastllm.dsl.yaml;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.problem.SourceLocation;

/**
 * Where each config path was written in the source file, so problems found after binding still point at a line.
 *
 * <pre>{@code
 * // given SourceMap sourceMap
 * sourceMap.locate("model.blocks.bob.num_heads")  // run.yaml:9:5, or the nearest enclosing path's
 * }</pre>
 */
public final class SourceMap {
  private final Map<String, SourceLocation> locations = new HashMap<>();

  /** A map with no locations, for configs built in code. */
  public static SourceMap empty() {
    return new SourceMap();
  }

  /** Records where a path was written; the first location recorded for a path wins. */
  public void put(String path, SourceLocation location) {
    locations.putIfAbsent(path, location);
  }

  /** The location of the path, or of its nearest enclosing path that was written in the file. */
  public Optional<SourceLocation> locate(String path) {
    for (String p = path; ; p = ConfigPath.parent(p)) {
      SourceLocation found = locations.get(p);
      if (found != null) {
        return Optional.of(found);
      }
      if (p.isEmpty()) {
        return Optional.empty();
      }
    }
  }

  /** An independent copy, for a tree that is about to be changed. */
  public SourceMap copy() {
    SourceMap copy = new SourceMap();
    copy.locations.putAll(locations);
    return copy;
  }

  /** The path and everything under it now come from {@code location} (a value replaced from outside the file). */
  public void replaceUnder(String path, SourceLocation location) {
    locations.keySet().removeIf(p -> p.equals(path) || p.startsWith(path + ".") || p.startsWith(path + "["));
    locations.put(path, location);
  }

  /** Only the exact path, without falling back to enclosing ones. */
  public Optional<SourceLocation> exact(String path) {
    return Optional.ofNullable(locations.get(path));
  }

  /** The problem with its location filled in, when it has none yet. */
  public Problem place(Problem problem) {
    if (problem.location().isPresent()) {
      return problem;
    }
    return locate(problem.path()).map(problem::at).orElse(problem);
  }
}
