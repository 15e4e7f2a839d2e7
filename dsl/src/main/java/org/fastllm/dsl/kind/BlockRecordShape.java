package org.fastllm.dsl.kind;

import jakarta.validation.Valid;
import java.lang.reflect.RecordComponent;
import java.util.HashSet;
import java.util.Set;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.rules.ValidCommonBlockKeys;

/**
 * The shape every block config record has, checked when its kind is added: {@code CommonBlockKeys common} first,
 * then only keys of its own, and none of what core already does for every kind repeated (a {@code @Valid} on
 * {@code common}, {@code @ValidCommonBlockKeys}), which would report each problem twice.
 *
 * <pre>{@code BlockRecordShape.check(GatedConvBlockConfig.class)  // passes, or names the class and what to change}</pre>
 */
final class BlockRecordShape {
  private BlockRecordShape() {}

  /** Returns when the record has the shape; else an {@link IllegalArgumentException} names the class and the fix. */
  static void check(Class<?> type) {
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
    if (type.isAnnotationPresent(ValidCommonBlockKeys.class)) {
      throw new IllegalArgumentException(type.getName() + " repeats @ValidCommonBlockKeys: BlockConfig declares it"
          + " for every kind, and each problem would be reported twice; remove it");
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
}
