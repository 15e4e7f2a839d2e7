package org.fastllm.dsl.bind;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.fastllm.dsl.config.AutoOrCount;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.RecordKeys;
import org.fastllm.dsl.config.YamlEnum;
import org.fastllm.dsl.kind.BlockKind;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.problem.Suggestions;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * Checks a YAML tree against the config records before binding: unknown keys, unknown kinds and wrong value
 * types are all reported at once, each with its path, so binding itself cannot fail on user input.
 *
 * <pre>{@code
 * // given BlockKindRegistry kinds, JsonNode tree
 * List<Problem> problems = new ShapeChecker(kinds).check(tree, ConfigDocument.class, "");
 * }</pre>
 */
final class ShapeChecker {
  private static final Set<String> YAML11_BOOLEANS =
      Set.of("yes", "no", "on", "off", "y", "n", "true", "false");
  private final BlockKindRegistry kinds;
  private final List<Problem> problems = new ArrayList<>();
  /** The keys whose removal from their mapping would leave a tree without these problems. */
  private final List<Removal> removals = new ArrayList<>();
  private boolean repairable = true;

  ShapeChecker(BlockKindRegistry kinds) {
    this.kinds = kinds;
  }

  List<Problem> check(JsonNode node, Type type, String path) {
    if (!value(node, type, path)) {
      repairable = false;
    }
    return problems;
  }

  /**
   * After {@link #check}: removes from the checked tree every key a problem was found at, so that it binds, and
   * says which config paths the removal touched; empty when some problem is not at a key of a record (a bad block,
   * a bad list element, a document that is no mapping), which no removal repairs without shifting other paths.
   */
  java.util.Optional<Repair> repair() {
    if (!repairable) {
      return java.util.Optional.empty();
    }
    Set<String> removed = new java.util.LinkedHashSet<>();
    Set<String> meant = new java.util.LinkedHashSet<>();
    for (Removal removal : removals) {
      removal.record().remove(removal.key());
      (removal.unknown() ? meant : removed).addAll(removal.touched());
    }
    return java.util.Optional.of(new Repair(removed, meant));
  }

  /** The paths a repair left absent: removed values, and the keys the removed unknown keys may have meant. */
  record Repair(Set<String> removed, Set<String> meant) {}

  /**
   * A key to remove from a record's mapping; {@code touched} is the path it leaves absent, or for an unknown key,
   * the paths of the known keys it may have meant: the close one, or when none is close, every key the record lacks.
   */
  private record Removal(ObjectNode record, String key, boolean unknown, List<String> touched) {}

  /** Whether the node has the right shape: false leaves its parent to remove it. */
  private boolean value(JsonNode node, Type type, String path) {
    if (node.isNull()) {
      problems.add(Problem.error(path, "has no value; give one, or remove the key to use the default"));
      return false;
    }
    Class<?> raw = rawClass(type);
    if (raw == BlockConfig.class) {
      return block(node, path);
    } else if (raw.isRecord() && !AutoOrCount.class.isAssignableFrom(raw)) {
      return record(node, raw, path, Set.of());
    } else if (Map.class.isAssignableFrom(raw)) {
      return map(node, typeArgument(type, 1), path);
    } else if (List.class.isAssignableFrom(raw)) {
      return list(node, typeArgument(type, 0), path);
    } else {
      return scalar(node, raw, path);
    }
  }

  private boolean record(JsonNode node, Class<?> type, String path, Set<String> reserved) {
    if (!node.isObject()) {
      problems.add(Problem.error(path, "expected a mapping of keys, got " + describe(node)));
      return false;
    }
    Map<String, RecordComponent> components = componentsByKey(type);
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      String key = field.getKey();
      String child = ConfigPath.key(path, key);
      RecordComponent component = components.get(key);
      if (component != null) {
        if (!value(field.getValue(), component.getGenericType(), child)) {
          removals.add(new Removal((ObjectNode) node, key, false, List.of(child)));
        }
      } else if (!reserved.contains(key)) {
        problems.add(Problem.error(child, unknownKey(key, components.keySet())));
        List<String> meant = Suggestions.closest(key, components.keySet()).map(List::of)
            .orElseGet(() -> components.keySet().stream().filter(k -> !node.has(k)).toList())
            .stream().map(k -> ConfigPath.key(path, k)).toList();
        removals.add(new Removal((ObjectNode) node, key, true, meant));
      }
    }
    return true;
  }

  private static String unknownKey(String key, Set<String> allowed) {
    var suggestion = Suggestions.closest(key, allowed);
    if (suggestion.isPresent()) {
      return "unknown key '" + key + "' (did you mean '" + suggestion.get() + "'?)";
    }
    return "unknown key '" + key + "' (allowed: " + String.join(", ", allowed.stream().sorted().toList()) + ")";
  }

  private boolean block(JsonNode node, String path) {
    if (!node.isObject()) {
      problems.add(Problem.error(path, "expected a block: a mapping with a 'kind' key, got " + describe(node)));
      return false;
    }
    JsonNode kind = node.get("kind");
    String kindPath = ConfigPath.key(path, "kind");
    if (kind == null) {
      problems.add(Problem.error(kindPath, "is required (installed kinds: " + String.join(", ", kinds.names()) + ")"));
      return false;
    }
    if (!kind.isTextual()) {
      problems.add(Problem.error(kindPath, "expected a kind name, got " + describe(kind)));
      return false;
    }
    var found = kinds.find(kind.asText());
    if (found.isEmpty()) {
      problems.add(Problem.error(kindPath, "unknown kind '" + kind.asText() + "'"
          + Suggestions.didYouMean(kind.asText(), kinds.names())
          + " (installed kinds: " + String.join(", ", kinds.names()) + ")"));
      return false;
    }
    BlockKind<?> block = found.get();
    return record(node, block.configClass(), path, Set.of("kind"));
  }

  /** A bad value of a named map or list taints the whole: its removal would change what the names refer to. */
  private boolean map(JsonNode node, Type valueType, String path) {
    if (!node.isObject()) {
      problems.add(Problem.error(path, "expected a mapping of names to values, got " + describe(node)));
      return false;
    }
    node.properties().forEach(e -> {
      if (!value(e.getValue(), valueType, ConfigPath.key(path, e.getKey()))) {
        repairable = false;
      }
    });
    return true;
  }

  private boolean list(JsonNode node, Type elementType, String path) {
    if (!node.isArray()) {
      problems.add(Problem.error(path, "expected a list, got " + describe(node)));
      return false;
    }
    for (int i = 0; i < node.size(); i++) {
      if (!value(node.get(i), elementType, ConfigPath.index(path, i))) {
        repairable = false;
      }
    }
    return true;
  }

  private boolean scalar(JsonNode node, Class<?> type, String path) {
    String problem = null;
    if (type == Integer.class || type == int.class) {
      problem = wholeNumber(node, Integer.MAX_VALUE);
    } else if (type == Long.class || type == long.class) {
      problem = wholeNumber(node, Long.MAX_VALUE);
    } else if (type == Double.class || type == double.class) {
      problem = node.isNumber() ? null : "expected a number, got " + describe(node);
    } else if (type == Boolean.class || type == boolean.class) {
      problem = bool(node);
    } else if (type == String.class) {
      problem = node.isTextual() ? null : "expected text, got " + describe(node);
    } else if (AutoOrCount.class.isAssignableFrom(type)) {
      boolean ok = (node.isTextual() && node.asText().equals("auto")) || wholeNumber(node, Integer.MAX_VALUE) == null;
      problem = ok ? null : "expected 'auto' or a whole number, got " + describe(node);
    } else if (type.isEnum() && YamlEnum.class.isAssignableFrom(type)) {
      problem = enumValue(node, type);
    }
    if (problem != null) {
      problems.add(Problem.error(path, problem));
    }
    return problem == null;
  }

  private static String wholeNumber(JsonNode node, long max) {
    if (node.isIntegralNumber()) {
      boolean fits = max == Long.MAX_VALUE ? node.canConvertToLong() : node.canConvertToInt();
      return fits ? null : "value " + node.asText() + " is too large (at most " + max + ")";
    }
    if (node.isNumber()) {
      return "expected a whole number, got " + node.asText();
    }
    return "expected a whole number, got " + describe(node);
  }

  private static String bool(JsonNode node) {
    if (node.isBoolean()) {
      return null;
    }
    if (node.isTextual() && YAML11_BOOLEANS.contains(node.asText().toLowerCase(Locale.ROOT))) {
      return "expected true or false, got '" + node.asText()
          + "' (YAML 1.1 words such as yes, no, on and off are not booleans here)";
    }
    return "expected true or false, got " + describe(node);
  }

  private static String enumValue(JsonNode node, Class<?> type) {
    List<String> allowed = Arrays.stream(type.getEnumConstants()).map(c -> ((YamlEnum) c).yamlName()).toList();
    if (node.isTextual() && allowed.contains(node.asText())) {
      return null;
    }
    String got = node.isTextual() ? "'" + node.asText() + "'" : describe(node);
    String hint = node.isTextual() ? Suggestions.didYouMean(node.asText(), allowed) : "";
    return "unknown value " + got + hint + " (allowed: " + String.join(", ", allowed) + ")";
  }

  static String describe(JsonNode node) {
    if (node.isObject()) {
      return "a mapping";
    }
    if (node.isArray()) {
      return "a list";
    }
    if (node.isTextual()) {
      return "text '" + node.asText() + "'";
    }
    if (node.isNull()) {
      return "nothing";
    }
    if (node.isBoolean()) {
      return "the boolean " + node.asText();
    }
    return "the number " + node.asText();
  }

  /** The record's keys, a block's common keys among them, flat as YAML writes them. */
  static Map<String, RecordComponent> componentsByKey(Class<?> type) {
    Map<String, RecordComponent> byKey = new LinkedHashMap<>();
    for (RecordComponent c : RecordKeys.of(type)) {
      byKey.put(ConfigMapper.keyOf(c.getName()), c);
    }
    return byKey;
  }

  private static Class<?> rawClass(Type type) {
    if (type instanceof Class<?> c) {
      return c;
    }
    if (type instanceof ParameterizedType p) {
      return (Class<?>) p.getRawType();
    }
    throw new IllegalArgumentException("unsupported config type " + type);
  }

  private static Type typeArgument(Type type, int index) {
    Type arg = ((ParameterizedType) type).getActualTypeArguments()[index];
    return arg instanceof java.lang.reflect.AnnotatedType a ? a.getType() : arg;
  }
}
