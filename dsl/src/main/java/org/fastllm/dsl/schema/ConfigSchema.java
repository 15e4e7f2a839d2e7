package org.fastllm.dsl.schema;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.Block;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.AutoOrCount;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.RecordKeys;
import org.fastllm.dsl.config.YamlEnum;
import org.fastllm.dsl.kind.BlockKind;
import org.fastllm.dsl.kind.BlockKindRegistry;

/**
 * A JSON Schema (draft 2020-12) of the config file, derived from the config records, their constraint
 * annotations and the installed block kinds, so it can never disagree with what the reader accepts.
 *
 * <pre>{@code String schema = ConfigSchema.of(BlockKindRegistry.installed()).toJson();}</pre>
 */
public final class ConfigSchema {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private final ObjectNode root;

  private ConfigSchema(ObjectNode root) {
    this.root = root;
  }

  public static ConfigSchema of(BlockKindRegistry kinds) {
    ObjectNode root = NODES.objectNode();
    root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    root.put("$id", "https://fastllm.org/schema/config.json");
    root.put("title", "fastllm config");
    ObjectNode defs = NODES.objectNode();
    ArrayNode oneOf = NODES.arrayNode();
    for (Map.Entry<String, BlockKind<?>> e : kinds.all().entrySet()) {
      Class<?> type = e.getValue().configClass();
      ObjectNode block = record(type);
      ((ObjectNode) block.get("properties")).set("kind", NODES.objectNode().put("const", e.getKey()));
      block.withArray("required").insert(0, "kind");
      Block annotation = type.getAnnotation(Block.class);
      if (annotation != null && !annotation.description().isEmpty()) {
        block.put("description", annotation.description());
      }
      defs.set("block_" + e.getKey(), block);
      oneOf.addObject().put("$ref", "#/$defs/block_" + e.getKey());
    }
    defs.set("block", NODES.objectNode().set("oneOf", oneOf));
    ObjectNode document = record(ConfigDocument.class);
    root.setAll(document);
    root.set("$defs", defs);
    return new ConfigSchema(root);
  }

  public ObjectNode tree() {
    return root;
  }

  public String toJson() {
    try {
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode record(Class<?> type) {
    ObjectNode node = NODES.objectNode().put("type", "object").put("additionalProperties", false);
    ObjectNode properties = node.putObject("properties");
    ArrayNode required = node.putArray("required");
    for (RecordComponent c : RecordKeys.of(type)) {
      String key = ConfigMapper.keyOf(c.getName());
      ObjectNode schema = value(c.getGenericType());
      constraints(c.getAccessor(), c, schema);
      properties.set(key, schema);
      if (c.isAnnotationPresent(NotNull.class) || field(c).isAnnotationPresent(NotNull.class)) {
        required.add(key);
      }
    }
    if (required.isEmpty()) {
      node.remove("required");
    }
    return node;
  }

  private static AnnotatedElement field(RecordComponent c) {
    try {
      return c.getDeclaringRecord().getDeclaredField(c.getName());
    } catch (NoSuchFieldException e) {
      return c;
    }
  }

  private static ObjectNode value(Type type) {
    Class<?> raw = type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
    if (raw == BlockConfig.class) {
      return NODES.objectNode().put("$ref", "#/$defs/block");
    }
    if (AutoOrCount.class.isAssignableFrom(raw)) {
      ObjectNode node = NODES.objectNode();
      ArrayNode any = node.putArray("oneOf");
      any.addObject().put("const", "auto");
      any.addObject().put("type", "integer").put("minimum", 1);
      return node;
    }
    if (raw.isRecord()) {
      return record(raw);
    }
    if (Map.class.isAssignableFrom(raw)) {
      Type values = ((ParameterizedType) type).getActualTypeArguments()[1];
      return NODES.objectNode().put("type", "object").set("additionalProperties", value(values));
    }
    if (List.class.isAssignableFrom(raw)) {
      Type items = ((ParameterizedType) type).getActualTypeArguments()[0];
      return NODES.objectNode().put("type", "array").set("items", value(items));
    }
    if (raw.isEnum() && YamlEnum.class.isAssignableFrom(raw)) {
      ObjectNode node = NODES.objectNode();
      ArrayNode values = node.putArray("enum");
      for (Object constant : raw.getEnumConstants()) {
        values.add(((YamlEnum) constant).yamlName());
      }
      return node;
    }
    String json = raw == Integer.class || raw == Long.class ? "integer"
        : raw == Double.class ? "number"
        : raw == Boolean.class ? "boolean"
        : "string";
    return NODES.objectNode().put("type", json);
  }

  private static void constraints(AnnotatedElement accessor, RecordComponent component, ObjectNode schema) {
    AnnotatedElement[] places = {component, accessor};
    for (AnnotatedElement place : places) {
      Min min = place.getAnnotation(Min.class);
      Max max = place.getAnnotation(Max.class);
      DecimalMin decimalMin = place.getAnnotation(DecimalMin.class);
      DecimalMax decimalMax = place.getAnnotation(DecimalMax.class);
      if (min != null) {
        schema.put("minimum", min.value());
      }
      if (max != null) {
        schema.put("maximum", max.value());
      }
      if (place.getAnnotation(Positive.class) != null) {
        schema.put("exclusiveMinimum", 0);
      }
      if (decimalMin != null) {
        schema.put(decimalMin.inclusive() ? "minimum" : "exclusiveMinimum", Double.parseDouble(decimalMin.value()));
      }
      if (decimalMax != null) {
        schema.put(decimalMax.inclusive() ? "maximum" : "exclusiveMaximum", Double.parseDouble(decimalMax.value()));
      }
    }
  }
}
