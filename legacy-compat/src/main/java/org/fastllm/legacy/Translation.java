package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.problem.SourceLocation;
import org.fastllm.dsl.yaml.YamlDocument;
import org.fastllm.dsl.yaml.SourceMap;

/**
 * One legacy document being rewritten: the new tree under construction, where each new path came from, and the
 * problems found so far.
 *
 * <p><b>Every new path is recorded with the location of the legacy key it was derived from</b>, so problems
 * found after binding point at the line the user actually wrote.
 */
final class Translation {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private static final Comparator<Problem> IN_FILE_ORDER = Comparator.comparing(
      (Problem p) -> p.location().map(l -> (long) l.line() << 20 | l.column()).orElse(Long.MAX_VALUE));

  private final YamlDocument legacy;
  private final ObjectNode root = NODES.objectNode();
  private final SourceMap sources = new SourceMap();
  private final List<Problem> problems = new ArrayList<>();

  Translation(YamlDocument legacy) {
    this.legacy = legacy;
  }

  /** The node at a dotted legacy path, or null when it was not written. */
  JsonNode legacyNode(String path) {
    JsonNode node = legacy.root();
    for (String key : path.split("\\.")) {
      node = node == null ? null : node.get(key);
    }
    return node;
  }

  /** Sets {@code value} at the dotted new path, creating enclosing mappings, located at {@code legacyPath}. */
  void put(String newPath, JsonNode value, String legacyPath) {
    Optional<SourceLocation> at = locate(legacyPath);
    String[] keys = newPath.split("\\.");
    ObjectNode parent = root;
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < keys.length - 1; i++) {
      prefix.append(i == 0 ? "" : ".").append(keys[i]);
      at.ifPresent(l -> sources.put(prefix.toString(), l));
      JsonNode child = parent.get(keys[i]);
      parent = child instanceof ObjectNode o ? o : parent.putObject(keys[i]);
    }
    at.ifPresent(l -> sources.put(newPath, l));
    parent.set(keys[keys.length - 1], value);
  }

  /** Records that the new path (a block, a section) is written where {@code legacyPath} is. */
  void locateAt(String newPath, String legacyPath) {
    locate(legacyPath).ifPresent(l -> sources.put(newPath, l));
  }

  void warn(String legacyPath, String message) {
    problems.add(place(Problem.warning(legacyPath, message)));
  }

  void error(String legacyPath, String message) {
    problems.add(place(Problem.error(legacyPath, message)));
  }

  ObjectNode root() {
    return root;
  }

  /**
   * The migration, or an {@link InvalidConfigException} listing every problem when any is an error; problems come
   * in the order of the lines they point at.
   */
  Migration finish() {
    List<Problem> inFileOrder = problems.stream().sorted(IN_FILE_ORDER).toList();
    if (problems.stream().anyMatch(Problem::isError)) {
      throw new InvalidConfigException(inFileOrder);
    }
    return new Migration(new YamlDocument(legacy.source(), root, sources), inFileOrder);
  }

  private Problem place(Problem problem) {
    return locate(problem.path()).map(problem::at).orElse(problem);
  }

  private Optional<SourceLocation> locate(String legacyPath) {
    return legacy.sourceMap().locate(legacyPath);
  }
}
