package org.fastllm.dsl.config;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys of a config record as YAML writes them, in order: its components, a block's {@code common} component
 * replaced in place by the ten {@link CommonBlockKeys} components it holds. The reader, the schema, the reference
 * and the key order of {@code migrate} all list keys through here, so they cannot disagree about a block's keys.
 *
 * <pre>{@code
 * RecordKeys.of(SsmBlockConfig.class)  // sharedWeights, hiddenSize, ..., addLinearBiases, variant, stateSize, ...
 * }</pre>
 */
public final class RecordKeys {
  private RecordKeys() {}

  /** The record's keys; a common key's component belongs to {@link CommonBlockKeys} (see {@link #isCommon}). */
  public static List<RecordComponent> of(Class<?> record) {
    List<RecordComponent> keys = new ArrayList<>();
    for (RecordComponent c : record.getRecordComponents()) {
      if (c.getType() == CommonBlockKeys.class) {
        keys.addAll(List.of(CommonBlockKeys.class.getRecordComponents()));
      } else {
        keys.add(c);
      }
    }
    return List.copyOf(keys);
  }

  /** Whether a key of {@link #of} is one of the keys every block has, read through {@link BlockConfig#common()}. */
  public static boolean isCommon(RecordComponent key) {
    return key.getDeclaringRecord() == CommonBlockKeys.class;
  }
}
