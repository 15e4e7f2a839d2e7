package org.fastllm.dsl.yaml;

/**
 * Builds the config paths used in messages: snake_case keys joined by dots, list indices in brackets.
 *
 * <pre>{@code ConfigPath.index(ConfigPath.key("model", "block_pattern"), 7)  // "model.block_pattern[7]"}</pre>
 */
public final class ConfigPath {
  private ConfigPath() {}

  /** {@code parent.key}; an empty key (YAML's {@code ? } alone) shows as {@code ''}, so no path is blank. */
  public static String key(String parent, String key) {
    String shown = key.isEmpty() ? "''" : key;
    return parent.isEmpty() ? shown : parent + "." + shown;
  }

  public static String index(String parent, int index) {
    return parent + "[" + index + "]";
  }

  /** The path one step up: {@code model.blocks.bob} for {@code model.blocks.bob.num_heads}; empty at the root. */
  public static String parent(String path) {
    int cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
    return cut < 0 ? "" : path.substring(0, cut);
  }
}
