package org.fastllm.dsl.reference;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Positive;
import java.lang.annotation.Annotation;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.AutoOrCount;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.RecordKeys;
import org.fastllm.dsl.config.YamlEnum;

/**
 * The keys of one config record: names, types, bounds and enum values read from the record components and their
 * Bean Validation annotations (as {@code ConfigSchema} reads them), descriptions from {@link Doc}, defaults from
 * {@link ResolvedDefaults}.
 *
 * <pre>{@code SectionKeys.of(OptimizerConfig.class)  // learning_rate, min_learning_rate, ...}</pre>
 *
 * <p><b>A key without a {@link Doc} description is an {@link IllegalStateException}</b>, so a new key cannot reach
 * the reference undocumented. A block's common keys are listed through {@link RecordKeys}, documented once on
 * {@link org.fastllm.dsl.config.CommonBlockKeys}.
 */
public final class SectionKeys {
  private SectionKeys() {}

  public static List<ReferenceKey> of(Class<?> record) {
    Map<String, Object> defaults = ResolvedDefaults.of(record);
    List<ReferenceKey> keys = new ArrayList<>();
    for (RecordComponent c : RecordKeys.of(record)) {
      Doc doc = docOf(record, c);
      String derived = defaults.containsKey(c.getName()) ? ValueText.of(defaults.get(c.getName())) : "";
      Class<?> type = raw(c.getGenericType());
      Class<?> section = type.isRecord() && !AutoOrCount.class.isAssignableFrom(type)
          ? raw(c.getGenericType()) : null;
      String shown = !doc.defaultValue().isEmpty() ? doc.defaultValue()
          : section != null && !BlockConfig.class.isAssignableFrom(section) ? "its keys' defaults"
          : !derived.isEmpty() ? derived
          : required(c) ? "required" : "-";
      keys.add(new ReferenceKey(ConfigMapper.keyOf(c.getName()), type(c.getGenericType()), shown,
          allowed(c), doc.value(), doc.defaultValue(), derived, section));
    }
    return keys;
  }

  /** The rules a record's class-level validators check, from {@link Doc#rules()} on the record. */
  public static List<String> rules(Class<?> record) {
    Doc doc = record.getAnnotation(Doc.class);
    return doc == null ? List.of() : List.of(doc.rules());
  }

  private static Doc docOf(Class<?> record, RecordComponent c) {
    Doc doc = c.getAnnotation(Doc.class);
    if (doc == null || doc.value().isEmpty()) {
      throw new IllegalStateException(record.getName() + "." + c.getName() + " has no @Doc description: every key"
          + " the reference lists says what it means");
    }
    return doc;
  }

  static boolean required(RecordComponent c) {
    return annotation(c, NotNull.class) != null;
  }

  /**
   * A constraint of a component wherever javac put it: Bean Validation annotations do not target record
   * components, so they land on the field, the accessor and the constructor parameter instead.
   */
  static <A extends Annotation> A annotation(RecordComponent c, Class<A> type) {
    for (AnnotatedElement place : new AnnotatedElement[] {c, c.getAccessor(), field(c)}) {
      A found = place.getAnnotation(type);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private static AnnotatedElement field(RecordComponent c) {
    try {
      return c.getDeclaringRecord().getDeclaredField(c.getName());
    } catch (NoSuchFieldException e) {
      return c;
    }
  }

  static Class<?> raw(Type type) {
    return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
  }

  private static String type(Type type) {
    Class<?> raw = raw(type);
    if (AutoOrCount.class.isAssignableFrom(raw)) {
      return "`auto` or integer";
    }
    if (raw == BlockConfig.class) {
      return "block";
    }
    if (raw.isRecord()) {
      return "section";
    }
    if (Map.class.isAssignableFrom(raw)) {
      return "map of name to " + type(((ParameterizedType) type).getActualTypeArguments()[1]);
    }
    if (List.class.isAssignableFrom(raw)) {
      return "list of " + type(((ParameterizedType) type).getActualTypeArguments()[0]);
    }
    if (raw.isEnum()) {
      return "one of";
    }
    return raw == Integer.class || raw == Long.class ? "integer"
        : raw == Double.class ? "number"
        : raw == Boolean.class ? "boolean"
        : "string";
  }

  private static String allowed(RecordComponent c) {
    Class<?> raw = raw(c.getGenericType());
    if (raw.isEnum() && YamlEnum.class.isAssignableFrom(raw)) {
      return Arrays.stream(raw.getEnumConstants()).map(e -> "`" + ((YamlEnum) e).yamlName() + "`")
          .collect(Collectors.joining(", "));
    }
    List<String> bounds = new ArrayList<>();
    Min min = annotation(c, Min.class);
    DecimalMin decimalMin = annotation(c, DecimalMin.class);
    Max max = annotation(c, Max.class);
    DecimalMax decimalMax = annotation(c, DecimalMax.class);
    if (min != null) {
      bounds.add(">= " + min.value());
    }
    if (annotation(c, Positive.class) != null) {
      bounds.add("> 0");
    }
    if (decimalMin != null) {
      bounds.add((decimalMin.inclusive() ? ">= " : "> ") + ValueText.of(Double.parseDouble(decimalMin.value())));
    }
    if (max != null) {
      bounds.add("<= " + max.value());
    }
    if (decimalMax != null) {
      bounds.add((decimalMax.inclusive() ? "<= " : "< ") + ValueText.of(Double.parseDouble(decimalMax.value())));
    }
    return String.join(", ", bounds);
  }
}
