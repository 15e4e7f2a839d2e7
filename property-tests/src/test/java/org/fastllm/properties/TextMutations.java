package org.fastllm.properties;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Breaks YAML text the way hands and tools do: characters deleted, inserted or replaced, lines duplicated, swapped
 * or cut, the file truncated, indentation changed, YAML syntax sprinkled in.
 *
 * <pre>{@code String broken = TextMutations.mutate(draw, validYaml);}</pre>
 */
final class TextMutations {
  /** Characters that mean something to YAML, plus a few that mean nothing. */
  private static final List<String> SNIPPETS = List.of(":", ": ", "{", "}", "[", "]", ",", "- ", "&a ", "*a", "!",
      "|", ">", "'", "\"", "\t", "\n", "  ", "#", "yes", "0", "-1", "99999999999999999999", "1e400", "~", "null",
      "---\n", "? ", "%YAML 1.1\n", "\u00e9", "\uFEFF", "kind: ", "model:", "<<: *a");

  private TextMutations() {}

  /** One to five random edits of {@code text}. */
  static String mutate(Draw d, String text) {
    String result = text;
    int edits = d.between(1, 5);
    for (int i = 0; i < edits; i++) {
      result = edit(d, result);
    }
    return result;
  }

  private static String edit(Draw d, String text) {
    if (text.isEmpty()) {
      return d.pick(SNIPPETS);
    }
    int at = d.between(0, text.length() - 1);
    List<String> lines = new ArrayList<>(Arrays.asList(text.split("\n", -1)));
    int line = d.between(0, lines.size() - 1);
    return switch (d.between(0, 7)) {
      case 0 -> text.substring(0, at) + text.substring(Math.min(text.length(), at + d.between(1, 12)));
      case 1 -> text.substring(0, at) + d.pick(SNIPPETS) + text.substring(at);
      case 2 -> text.substring(0, at) + d.pick(SNIPPETS) + text.substring(Math.min(text.length(), at + 1));
      case 3 -> {
        lines.add(line, lines.get(line));
        yield String.join("\n", lines);
      }
      case 4 -> {
        int other = d.between(0, lines.size() - 1);
        String swap = lines.get(line);
        lines.set(line, lines.get(other));
        lines.set(other, swap);
        yield String.join("\n", lines);
      }
      case 5 -> text.substring(0, at);
      case 6 -> {
        lines.set(line, " ".repeat(d.between(0, 6)) + lines.get(line).stripLeading());
        yield String.join("\n", lines);
      }
      default -> {
        lines.remove(line);
        yield String.join("\n", lines);
      }
    };
  }
}
