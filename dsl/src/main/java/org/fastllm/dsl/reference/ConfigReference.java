package org.fastllm.dsl.reference;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKind;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.kind.CoreBlocksPlugin;

/**
 * The config reference in Markdown: every section and key with its type, default, allowed values and rules,
 * derived from the config records of the installed block kinds, plugin kinds included and marked.
 *
 * <pre>{@code
 * String markdown = ConfigReference.markdown(BlockKindRegistry.installed());
 * // or: java -cp fastllm-cli.jar:plugin.jar org.fastllm.dsl.reference.ConfigReference docs/reference/config.md
 * }</pre>
 *
 * <p><b>The same kinds give the same text, byte for byte</b>: sections follow the records' key order, kinds are
 * sorted, so a committed copy can be compared with a fresh one.
 */
public final class ConfigReference {
  /** How to regenerate the committed copy; printed in its header and by the test that compares it. */
  public static final String COMMAND = "docs/generate-reference.sh";

  private final StringBuilder out = new StringBuilder();
  private final Map<Class<?>, String> nested = new LinkedHashMap<>();

  private ConfigReference() {}

  /** Writes the reference to the file named by the first argument, or prints it. */
  public static void main(String[] args) throws IOException {
    String markdown = markdown(BlockKindRegistry.installed());
    if (args.length == 0) {
      System.out.print(markdown);
    } else {
      Files.writeString(Path.of(args[0]), markdown, StandardCharsets.UTF_8);
    }
  }

  public static String markdown(BlockKindRegistry kinds) {
    return new ConfigReference().render(kinds);
  }

  private String render(BlockKindRegistry kinds) {
    Set<String> core = Set.copyOf(BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin())).names());
    out.append("# Config reference\n\n")
        .append("<!-- Generated from the config records by ").append(COMMAND).append("; do not edit by hand. -->\n\n")
        .append("Every key of a config file: its type, its default, the values it allows and the rules that tie keys"
            + " together. Keys are snake_case; an unknown key is an error with a did-you-mean suggestion. A"
            + " default written in words depends on other keys; `describe --resolved FILE` prints a config with"
            + " every default filled in. This page is generated from the code with the example plugin on the"
            + " classpath, so it lists its `gated_conv` kind too, marked *plugin*; `fastllm-cli schema` gives the"
            + " same keys as a JSON Schema for the kinds installed where it runs.\n\n")
        .append("Kinds: ");
    out.append(String.join(", ", kinds.names().stream()
        .map(k -> "[" + k + "](#kind-" + k.replace('_', '-') + ")" + (core.contains(k) ? "" : " (plugin)")).toList()))
        .append(". Sections: [model](#model), [blocks](#blocks), [data](#data), [optimizer](#optimizer),"
            + " [training](#training), [checkpoint](#checkpoint).\n\n");
    section("The file", "A config file has these top-level sections; `validate`, `describe` and `migrate` read only"
        + " `model`, `train` reads them all.", ConfigDocument.class);
    section("model", "", ModelConfig.class);
    blocks(kinds, core);
    for (var e : List.copyOf(nested.entrySet())) {
      if (!isRunSection(e.getKey()) && e.getKey() != ModelConfig.class) {
        section(e.getValue(), "", e.getKey());  // normalization, lora, rotary: the model's parts
      }
    }
    Set<Class<?>> done = new java.util.HashSet<>(nested.keySet());
    for (var e : List.copyOf(nested.entrySet())) {
      if (isRunSection(e.getKey())) {
        section(e.getValue(), "", e.getKey());
      }
    }
    // sections inside run sections (training.kernels), in the order they were met
    for (var e : List.copyOf(nested.entrySet())) {
      if (done.add(e.getKey())) {
        section(e.getValue(), "", e.getKey());
      }
    }
    return out.toString();
  }

  private static boolean isRunSection(Class<?> type) {
    for (var c : ConfigDocument.class.getRecordComponents()) {
      if (c.getType() == type && type != ModelConfig.class) {
        return true;
      }
    }
    return false;
  }

  private void blocks(BlockKindRegistry kinds, Set<String> core) {
    out.append("## blocks\n\n")
        .append("`model.blocks` maps free names to block configs; `kind` picks the block kind. Every block is"
            + " pre-norm: `x + mixer(norm(x))`, then `x + mlp(norm(x))`. A name used several times in"
            + " `block_pattern` shares its configuration; with `shared_weights: true` it also shares one set of"
            + " parameters.\n\n")
        .append("| kind | from | what |\n|---|---|---|\n");
    for (Map.Entry<String, BlockKind<?>> e : kinds.all().entrySet()) {
      out.append("| [").append(e.getKey()).append("](#kind-").append(e.getKey().replace('_', '-')).append(") | ")
          .append(core.contains(e.getKey()) ? "core" : "plugin `" + e.getValue().configClass().getName() + "`")
          .append(" | ").append(cell(description(e.getValue().configClass()))).append(" |\n");
    }
    out.append("\nRules every block follows:\n\n");
    SectionKeys.rules(BlockConfig.class).forEach(r -> out.append("- ").append(r).append('\n'));
    out.append('\n');
    for (Map.Entry<String, BlockKind<?>> e : kinds.all().entrySet()) {
      Class<?> type = e.getValue().configClass();
      out.append("### kind: ").append(e.getKey()).append(core.contains(e.getKey()) ? "" : " (plugin)").append("\n\n")
          .append(capitalized(description(type))).append(".\n\n");
      keyTable(type, "| `kind` | string | required | `" + e.getKey() + "` | selects this kind |\n");
      rules(type);
    }
  }

  private static String description(Class<?> type) {
    Block block = type.getAnnotation(Block.class);
    return block == null ? "" : block.description();
  }

  private static String capitalized(String text) {
    return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }

  private void section(String title, String intro, Class<?> type) {
    out.append("## ").append(title).append("\n\n");
    if (!intro.isEmpty()) {
      out.append(intro).append("\n\n");
    }
    keyTable(type, "");
    rules(type);
  }

  private void keyTable(Class<?> type, String firstRow) {
    out.append("| key | type | default | allowed | what |\n|---|---|---|---|---|\n").append(firstRow);
    for (ReferenceKey key : SectionKeys.of(type)) {
      if (key.section() != null && !BlockConfig.class.isAssignableFrom(key.section())) {
        nested.putIfAbsent(key.section(), key.key());
      }
      String typeText = key.section() != null
          ? "section, see [" + nested.get(key.section()) + "](#" + nested.get(key.section()).replace('_', '-') + ")"
          : key.type();
      out.append("| `").append(key.key()).append("` | ").append(cell(typeText)).append(" | ")
          .append(cell(key.defaultText())).append(" | ").append(cell(key.allowed())).append(" | ")
          .append(cell(key.description())).append(" |\n");
    }
    out.append('\n');
  }

  private void rules(Class<?> type) {
    List<String> rules = SectionKeys.rules(type);
    if (!rules.isEmpty()) {
      out.append("Rules:\n\n");
      rules.forEach(r -> out.append("- ").append(r).append('\n'));
      out.append('\n');
    }
  }

  private static String cell(String text) {
    return text.replace("|", "\\|");
  }
}
