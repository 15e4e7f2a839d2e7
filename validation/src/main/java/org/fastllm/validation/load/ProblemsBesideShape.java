package org.fastllm.validation.load;

import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;
import org.fastllm.dsl.bind.ShapeRepair;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * Of the rule problems found in a document repaired around its shape problems ({@link ShapeRepair}), those that are
 * the user's own. A rule problem is left out when it sits at or under a path a shape problem already names, or when
 * it may exist only because of the repair: it sits at or under a path the repair left absent or an unknown key may
 * have been meant for, or its message names a key whose value the repair removed (a rule comparing
 * {@code head_groups} with a {@code num_heads} that fell back to its default).
 *
 * <p>A value removed in one block reaches only that block's problems (blocks are checked one by one); one removed
 * anywhere else reaches every problem, since model and section keys feed the rules of the blocks and of the other
 * sections.
 */
final class ProblemsBesideShape {
  private static final String BLOCKS = ConfigPath.key("model", "blocks");

  private ProblemsBesideShape() {}

  static List<Problem> keep(List<Problem> rules, List<Problem> shape, ShapeRepair repair) {
    List<String> named = shape.stream().map(Problem::path).toList();
    return rules.stream()
        .filter(rule -> !atOrUnderAny(rule.path(), named) && !atOrUnderAny(rule.path(), repair.removed())
            && !atOrUnderAny(rule.path(), repair.meant()))
        .filter(rule -> repair.removed().stream().noneMatch(path -> reaches(path, rule)))
        .toList();
  }

  /** Whether the rule's message names the key of a removed value, within that key's reach. */
  private static boolean reaches(String removedPath, Problem rule) {
    String record = ConfigPath.parent(removedPath);
    String key = removedPath.substring(record.isEmpty() ? 0 : record.length() + 1);
    boolean inReach = !ConfigPath.parent(record).equals(BLOCKS) || atOrUnder(rule.path(), record);
    return inReach && Pattern.compile("(?<![A-Za-z0-9_])" + Pattern.quote(key) + "(?![A-Za-z0-9_])")
        .matcher(rule.message()).find();
  }

  private static boolean atOrUnderAny(String path, Collection<String> parents) {
    return parents.stream().anyMatch(parent -> atOrUnder(path, parent));
  }

  private static boolean atOrUnder(String path, String parent) {
    return path.equals(parent) || path.startsWith(parent + ".") || path.startsWith(parent + "[");
  }
}
