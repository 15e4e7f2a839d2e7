package org.fastllm.dsl.yaml;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.problem.SourceLocation;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads YAML text into a tree, remembering the line and column of every key and value, within {@link ReadLimits}.
 *
 * <pre>{@code YamlDocument doc = new YamlTreeReader(ReadLimits.DEFAULT).read(Path.of("run.yaml"));}</pre>
 *
 * <p><b>Policy:</b> duplicate keys are errors (both lines named); anchors and aliases are allowed up to
 * {@link ReadLimits#maxAliases()} uses; a UTF-8 byte order mark is skipped; YAML 1.1 words such as {@code yes} and
 * {@code off} stay strings (booleans are only {@code true} and {@code false}). Documents must be mappings.
 */
public final class YamlTreeReader {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private final ReadLimits limits;
  private final YAMLFactory factory;

  public YamlTreeReader(ReadLimits limits) {
    this.limits = limits;
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(true); // detected here, with both locations
    options.setMaxAliasesForCollections(Math.max(limits.maxAliases(), 1));
    options.setNestingDepthLimit(limits.maxDepth() + 8);
    options.setCodePointLimit((int) Math.min(Integer.MAX_VALUE, limits.maxBytes() + 16));
    options.setAllowRecursiveKeys(false);
    this.factory = YAMLFactory.builder()
        .loaderOptions(options)
        .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(limits.maxDepth() + 8).build())
        .build();
  }

  public YamlTreeReader() {
    this(ReadLimits.DEFAULT);
  }

  /** Reads a file; a missing, unreadable, oversized or non-UTF-8 file is an {@link InvalidConfigException}. */
  public YamlDocument read(Path file) {
    String name = file.toString();
    try {
      long size = Files.size(file);
      if (size > limits.maxBytes()) {
        throw fileProblem(name, "document is " + size + " bytes, over the limit of " + limits.maxBytes() + " bytes");
      }
      byte[] bytes = Files.readAllBytes(file);
      String text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
      return read(name, text);
    } catch (NoSuchFileException e) {
      throw fileProblem(name, "file not found");
    } catch (CharacterCodingException e) {
      throw fileProblem(name, "file is not UTF-8 text");
    } catch (IOException e) {
      throw fileProblem(name, "cannot read file (" + e.getMessage() + ")");
    }
  }

  /** Reads YAML text; {@code source} names it in messages. */
  public YamlDocument read(String source, String text) {
    if (text.length() > limits.maxBytes()) {
      throw fail(source, "", null, "document is over the limit of " + limits.maxBytes() + " bytes");
    }
    String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
    if (body.indexOf('\0') >= 0) {
      throw fail(source, "", null, "document contains NUL bytes: this is not a YAML text file");
    }
    SourceMap map = new SourceMap();
    try (YAMLParser parser = factory.createParser(body)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw fail(source, "", null, "document is empty: expected a mapping with a 'model' section");
      }
      TreeBuilder builder = new TreeBuilder(source, parser, map);
      JsonNode root = builder.value(first, "", 0);
      if (!root.isObject()) {
        throw fail(source, "", location(source, parser.currentTokenLocation()),
            "document is " + describe(root) + ", expected a mapping of keys such as 'model:'");
      }
      if (parser.nextToken() != null) {
        throw fail(source, "", location(source, parser.currentTokenLocation()),
            "more than one YAML document in the file (found '---'); put one config per file");
      }
      return new YamlDocument(source, root, map);
    } catch (JsonProcessingException e) {
      String message = e.getOriginalMessage();
      SourceLocation where = problemMark(source, message).orElse(location(source, e.getLocation()));
      throw fail(source, "", where, "not valid YAML: " + explanation(message));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      if (e instanceof InvalidConfigException) {
        throw e;
      }
      // SnakeYAML reports its own limits (code points, aliases, nesting) as runtime exceptions.
      throw fail(source, "", null, "not valid YAML: " + firstLine(String.valueOf(e.getMessage())));
    }
  }

  private final class TreeBuilder {
    private final String source;
    private final YAMLParser parser;
    private final SourceMap map;
    private final Map<String, JsonNode> anchors = new HashMap<>();
    private int aliases;
    private int nodes;

    TreeBuilder(String source, YAMLParser parser, SourceMap map) {
      this.source = source;
      this.parser = parser;
      this.map = map;
    }

    JsonNode value(JsonToken token, String path, int depth) throws IOException {
      SourceLocation here = location(source, parser.currentTokenLocation());
      map.put(path, here);
      String anchor = parser.getObjectId();
      if (parser.isCurrentAlias()) {
        return alias(path, here);
      }
      count(path, here, 1);
      JsonNode node = switch (token) {
        case START_OBJECT -> object(path, depth + 1, here);
        case START_ARRAY -> array(path, depth + 1, here);
        case VALUE_STRING -> NODES.textNode(parser.getText());
        case VALUE_NUMBER_INT -> integer();
        case VALUE_NUMBER_FLOAT -> NODES.numberNode(parser.getDoubleValue());
        case VALUE_TRUE, VALUE_FALSE -> bool(token);
        case VALUE_NULL -> NODES.nullNode();
        default -> throw fail(source, path, here, "unexpected YAML content " + token);
      };
      if (anchor != null) {
        anchors.put(anchor, node);
      }
      return node;
    }

    /** Only {@code true} and {@code false} are booleans; YAML 1.1 words (yes, off, ...) stay text. */
    private JsonNode bool(JsonToken token) throws IOException {
      String text = parser.getText();
      boolean strict = text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false");
      return strict ? NODES.booleanNode(token == JsonToken.VALUE_TRUE) : NODES.textNode(text);
    }

    private JsonNode integer() throws IOException {
      return switch (parser.getNumberType()) {
        case INT -> NODES.numberNode(parser.getIntValue());
        case LONG -> NODES.numberNode(parser.getLongValue());
        default -> NODES.numberNode(parser.getBigIntegerValue());
      };
    }

    private JsonNode alias(String path, SourceLocation here) throws IOException {
      String name = parser.getText();
      if (++aliases > limits.maxAliases()) {
        throw fail(source, path, here, "more than " + limits.maxAliases() + " aliases in one document");
      }
      JsonNode target = anchors.get(name);
      if (target == null) {
        throw fail(source, path, here, "alias *" + name + " refers to no anchor defined before it");
      }
      count(path, here, size(target));
      return target.deepCopy();
    }

    private void count(String path, SourceLocation here, int added) {
      nodes += added;
      if (nodes > limits.maxNodes()) {
        throw fail(source, path, here, "document expands to more than " + limits.maxNodes()
            + " values (aliases included)");
      }
    }

    private ObjectNode object(String path, int depth, SourceLocation here) throws IOException {
      checkDepth(path, depth, here);
      ObjectNode object = NODES.objectNode();
      Map<String, SourceLocation> seen = new HashMap<>();
      for (JsonToken t = parser.nextToken(); t != JsonToken.END_OBJECT; t = parser.nextToken()) {
        String key = parser.currentName();
        SourceLocation keyAt = location(source, parser.currentTokenLocation());
        String child = ConfigPath.key(path, key);
        SourceLocation first = seen.putIfAbsent(key, keyAt);
        if (first != null) {
          throw fail(source, child, keyAt, "duplicate key '" + key + "' (first written at line " + first.line() + ")");
        }
        map.put(child, keyAt);
        object.set(key, value(parser.nextToken(), child, depth));
      }
      return object;
    }

    private ArrayNode array(String path, int depth, SourceLocation here) throws IOException {
      checkDepth(path, depth, here);
      ArrayNode array = NODES.arrayNode();
      int index = 0;
      for (JsonToken t = parser.nextToken(); t != JsonToken.END_ARRAY; t = parser.nextToken()) {
        array.add(value(t, ConfigPath.index(path, index++), depth));
      }
      return array;
    }

    private void checkDepth(String path, int depth, SourceLocation here) {
      if (depth > limits.maxDepth()) {
        throw fail(source, path, here, "nested deeper than " + limits.maxDepth() + " levels");
      }
    }
  }

  private static int size(JsonNode node) {
    int total = 1;
    for (JsonNode child : node) {
      total += size(child);
    }
    return total;
  }

  private static String describe(JsonNode node) {
    if (node.isArray()) {
      return "a list";
    }
    if (node.isNull()) {
      return "empty";
    }
    return "a single value ('" + node.asText() + "')";
  }

  private static SourceLocation location(String source, JsonLocation at) {
    if (at == null || at.getLineNr() < 1) {
      return null;
    }
    return new SourceLocation(source, at.getLineNr(), Math.max(1, at.getColumnNr()));
  }

  private static final java.util.regex.Pattern MARK =
      java.util.regex.Pattern.compile("line (\\d+), column (\\d+)");

  /** The parser names the spot of the problem last ("line 2, column 1"); that is where the user should look. */
  private static java.util.Optional<SourceLocation> problemMark(String source, String message) {
    var m = MARK.matcher(message);
    SourceLocation last = null;
    while (m.find()) {
      last = new SourceLocation(source, Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }
    return java.util.Optional.ofNullable(last);
  }

  /** The parser's explanation without its quoted snippets and position lines. */
  private static String explanation(String message) {
    return message.lines()
        .filter(l -> !l.isBlank() && !l.startsWith(" "))
        .map(String::strip)
        .reduce((a, b) -> a + "; " + b)
        .orElse(message);
  }

  private static String firstLine(String message) {
    int cut = message.indexOf('\n');
    return (cut < 0 ? message : message.substring(0, cut)).strip();
  }

  private static InvalidConfigException fileProblem(String file, String message) {
    return InvalidConfigException.of(Problem.error(file, message));
  }

  private static InvalidConfigException fail(String source, String path, SourceLocation at, String message) {
    Problem problem = Problem.error(path.isEmpty() ? "(document)" : path, message);
    if (at == null) {
      at = new SourceLocation(source, 1, 1);
    }
    return InvalidConfigException.of(problem.at(at));
  }
}
