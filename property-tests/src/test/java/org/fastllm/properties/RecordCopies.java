package org.fastllm.properties;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;

/**
 * Copies of config records with one component changed, for any block kind (the records have no withers); a key
 * every block has is changed in the block's {@code common} component.
 *
 * <pre>{@code TransformerBlockConfig shared = RecordCopies.with(bob, "sharedWeights", true);}</pre>
 */
final class RecordCopies {
  private RecordCopies() {}

  @SuppressWarnings("unchecked")
  static <R extends Record> R with(Object record, String component, Object value) {
    if (record instanceof BlockConfig block && isCommonKey(component)) {
      return with(block, "common", with(block.common(), component, value));
    }
    RecordComponent[] components = record.getClass().getRecordComponents();
    Object[] values = new Object[components.length];
    boolean found = false;
    try {
      for (int i = 0; i < components.length; i++) {
        boolean target = components[i].getName().equals(component);
        found |= target;
        values[i] = target ? value : components[i].getAccessor().invoke(record);
      }
      if (!found) {
        throw new IllegalArgumentException(record.getClass().getSimpleName() + " has no component " + component);
      }
      Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
      return (R) record.getClass().getDeclaredConstructor(types).newInstance(values);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("cannot copy " + record.getClass().getName(),
          e instanceof InvocationTargetException ite ? ite.getCause() : e);
    }
  }

  private static boolean isCommonKey(String component) {
    return Arrays.stream(CommonBlockKeys.class.getRecordComponents()).anyMatch(c -> c.getName().equals(component));
  }
}
