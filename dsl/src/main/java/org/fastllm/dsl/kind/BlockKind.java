package org.fastllm.dsl.kind;

import jakarta.validation.Valid;
import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.layout.ParameterLayout;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * A block kind as the config side knows it: its {@code kind} string, its config record and its parameter layout.
 *
 * <pre>{@code registry.kind("transformer").configClass()  // TransformerBlockConfig.class}</pre>
 */
public record BlockKind<C extends BlockConfig>(String kind, Class<C> configClass, ParameterLayout<C> layout) {

  /**
   * The kind for a config class annotated with {@code @Block}: a record whose first component is
   * {@code CommonBlockKeys common}, followed by the kind's own keys only.
   *
   * @throws IllegalArgumentException naming the class and what to change, when it is not shaped so
   */
  public static <C extends BlockConfig> BlockKind<C> of(Class<C> configClass, ParameterLayout<C> layout) {
    String kind = BlockConfig.kindOf(configClass);
    requireCommonKeysFirst(configClass);
    return new BlockKind<>(kind, configClass, layout);
  }

  private static void requireCommonKeysFirst(Class<?> type) {
    RecordComponent[] components = type.isRecord() ? type.getRecordComponents() : null;
    if (components == null || components.length == 0 || components[0].getType() != CommonBlockKeys.class
        || !components[0].getName().equals("common")) {
      throw new IllegalArgumentException(type.getName() + " must be a record whose first component is"
          + " 'CommonBlockKeys common', followed by the kind's own keys");
    }
    Set<String> common = new HashSet<>();
    for (RecordComponent c : CommonBlockKeys.class.getRecordComponents()) {
      common.add(c.getName());
    }
    for (RecordComponent c : components) {
      if (common.contains(c.getName())) {
        throw new IllegalArgumentException(type.getName() + " declares '" + c.getName() + "', one of the keys every"
            + " block has: CommonBlockKeys holds it already; declare only the kind's own keys");
      }
    }
    if (isValidated(components[0])) {
      throw new IllegalArgumentException(type.getName() + " marks 'common' @Valid: the loader checks the common"
          + " keys of every block itself, and would report each problem twice; remove it");
    }
  }

  private static boolean isValidated(RecordComponent common) {
    try {
      return common.isAnnotationPresent(Valid.class) || common.getAccessor().isAnnotationPresent(Valid.class)
          || common.getDeclaringRecord().getDeclaredField(common.getName()).isAnnotationPresent(Valid.class)
          || common.getAnnotatedType().isAnnotationPresent(Valid.class);
    } catch (NoSuchFieldException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The tensors of a resolved block of this kind. */
  public List<TensorSpec> tensors(BlockConfig resolved) {
    return layout.tensors(configClass.cast(resolved));
  }
}
