package org.fastllm.dsl.migrate;

import java.util.List;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.YamlDocument;

/**
 * The result of adapting an old-format document: the new-format document (its source map pointing at the old
 * file's lines where it can) and the deprecation warnings to show.
 */
public record Migration(YamlDocument document, List<Problem> warnings) {
  public Migration {
    warnings = List.copyOf(warnings);
  }
}
