package org.fastllm.dsl.bind;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.YamlDocument;

/**
 * Turns a YAML tree into config records: every shape problem is reported at once, with lines, before Jackson
 * binds the tree.
 *
 * <pre>{@code
 * // given BlockKindRegistry kinds, YamlDocument yamlDocument
 * ConfigDocument config = new ConfigBinder(kinds).bind(yamlDocument);
 * }</pre>
 */
public final class ConfigBinder {
  private final BlockKindRegistry kinds;
  private final ObjectMapper mapper;

  public ConfigBinder(BlockKindRegistry kinds) {
    this.kinds = kinds;
    this.mapper = ConfigMapper.yaml(kinds);
  }

  /** The document as records, with absent keys still absent; an {@link InvalidConfigException} lists all problems. */
  public ConfigDocument bind(YamlDocument document) {
    List<Problem> problems = new ShapeChecker(kinds).check(document.root(), ConfigDocument.class, "");
    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems.stream().map(document.sourceMap()::place).toList());
    }
    try {
      return mapper.treeToValue(document.root(), ConfigDocument.class);
    } catch (JsonProcessingException e) {
      String path = e.getMessage();
      throw InvalidConfigException.of(Problem.error("(document)", "cannot be read: " + firstLine(path)));
    }
  }

  /**
   * For a document with shape problems, the records bound from a copy without the keys those problems are at, so
   * that the rules of the rest of the document can still be checked; empty when the document has no shape problem
   * or one that no key's removal repairs (see {@link ShapeRepair}).
   */
  public Optional<ShapeRepair> repair(YamlDocument document) {
    JsonNode copy = document.root().deepCopy();
    ShapeChecker checker = new ShapeChecker(kinds);
    if (checker.check(copy, ConfigDocument.class, "").isEmpty()) {
      return Optional.empty();
    }
    Optional<ShapeChecker.Repair> repair = checker.repair();
    if (repair.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(new ShapeRepair(mapper.treeToValue(copy, ConfigDocument.class), repair.get().removed(),
          repair.get().meant()));
    } catch (JsonProcessingException e) {
      return Optional.empty();
    }
  }

  public ObjectMapper mapper() {
    return mapper;
  }

  private static String firstLine(String message) {
    int cut = message.indexOf('\n');
    return cut < 0 ? message : message.substring(0, cut);
  }
}
