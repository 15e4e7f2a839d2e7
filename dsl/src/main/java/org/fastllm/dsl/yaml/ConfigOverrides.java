package org.fastllm.dsl.yaml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.problem.SourceLocation;

/**
 * Dotted {@code key=value} settings from the command line, applied to a config tree before it is bound, so a bad
 * key or value is reported exactly like one written in the file.
 *
 * <pre>{@code
 * // given YamlDocument document
 * YamlDocument run = ConfigOverrides.parse(List.of("training.steps=200", "optimizer.learning_rate=3e-3"))
 *     .applyTo(document);
 * }</pre>
 *
 * <p><b>Values are read as YAML</b> ({@code 200} is a number, {@code [a, b]} a list, {@code true} a boolean);
 * missing sections are created. Problems are placed at {@code command line:N:1}, N being the override's position.
 */
public final class ConfigOverrides {
  /** The source name of problems found in an override. */
  public static final String SOURCE = "command line";
  private final List<Setting> settings;

  private record Setting(int position, String path, JsonNode value) {}

  private ConfigOverrides(List<Setting> settings) {
    this.settings = List.copyOf(settings);
  }

  public static ConfigOverrides none() {
    return new ConfigOverrides(List.of());
  }

  /** Parses every setting; an {@link InvalidConfigException} lists all malformed ones. */
  public static ConfigOverrides parse(List<String> arguments) {
    List<Setting> settings = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    YamlTreeReader reader = new YamlTreeReader();
    for (int i = 0; i < arguments.size(); i++) {
      String argument = arguments.get(i);
      SourceLocation where = new SourceLocation(SOURCE, i + 1, 1);
      int equals = argument.indexOf('=');
      String path = equals < 0 ? argument : argument.substring(0, equals).strip();
      if (equals < 0 || !path.matches("[a-z0-9_]+(\\.[a-z0-9_]+)*")) {
        problems.add(Problem.error(argument, "not a setting: write a dotted key, '=' and a value, e.g. "
            + "training.steps=200").at(where));
        continue;
      }
      try {
        JsonNode value = reader.read(SOURCE, "value: " + argument.substring(equals + 1)).root().get("value");
        settings.add(new Setting(i + 1, path, value));
      } catch (InvalidConfigException e) {
        problems.add(Problem.error(path, "the value '" + argument.substring(equals + 1) + "' is not valid YAML")
            .at(where));
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
    return new ConfigOverrides(settings);
  }

  public boolean isEmpty() {
    return settings.isEmpty();
  }

  /** Whether one of the settings is the dotted key {@code path} (e.g. {@code training.output_dir}). */
  public boolean sets(String path) {
    return settings.stream().anyMatch(s -> s.path().equals(path));
  }

  /** A copy of the document with every setting applied in order, each located at the command line. */
  public YamlDocument applyTo(YamlDocument document) {
    if (settings.isEmpty()) {
      return document;
    }
    ObjectNode root = ((ObjectNode) document.root()).deepCopy();
    SourceMap locations = document.sourceMap().copy();
    List<Problem> problems = new ArrayList<>();
    for (Setting setting : settings) {
      SourceLocation where = new SourceLocation(SOURCE, setting.position(), 1);
      String[] keys = setting.path().split("\\.");
      ObjectNode parent = root;
      String path = "";
      boolean placed = true;
      for (int k = 0; k < keys.length - 1 && placed; k++) {
        path = ConfigPath.key(path, keys[k]);
        JsonNode child = parent.get(keys[k]);
        if (child == null) {
          parent = parent.putObject(keys[k]);
          locations.put(path, where);
        } else if (child instanceof ObjectNode object) {
          parent = object;
        } else {
          problems.add(Problem.error(path, "holds a single value, so '" + setting.path() + "' cannot be set inside it")
              .at(where));
          placed = false;
        }
      }
      if (placed) {
        parent.set(keys[keys.length - 1], setting.value());
        locations.replaceUnder(setting.path(), where);
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidConfigException(problems);
    }
    return new YamlDocument(document.source(), root, locations);
  }
}
