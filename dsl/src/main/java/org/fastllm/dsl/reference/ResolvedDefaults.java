package org.fastllm.dsl.reference;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ModelDefaults;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.RecordKeys;

/**
 * What {@code withDefaults} gives each key of a section written empty: the defaults the reference prints, taken
 * from the code that applies them rather than copied by hand.
 *
 * <pre>{@code ResolvedDefaults.of(TrainingConfig.class).get("steps")  // 300}</pre>
 *
 * <p>A required enum key (an ssm block's {@code variant}) is tried with each of its values, so a key of one variant
 * ({@code chunk_size}) gets that variant's default. A block resolves against a model of width
 * {@value ModelConfig#DEFAULT_HIDDEN_SIZE}; defaults that depend on the width are documented in words by
 * {@link Doc#defaultValue()}.
 */
public final class ResolvedDefaults {
  private static final ModelDefaults MODEL =
      new ModelDefaults(ModelConfig.DEFAULT_HIDDEN_SIZE, NormalizationConfig.DEFAULT);

  private ResolvedDefaults() {}

  /** Component name to resolved default; a key no variant gives a default is absent. */
  public static Map<String, Object> of(Class<?> record) {
    Map<String, Object> defaults = new HashMap<>();
    for (Object empty : emptyInstances(record)) {
      Object resolved = resolve(empty);
      for (RecordComponent c : RecordKeys.of(record)) {
        Object value = read(c, resolved);
        if (value != null) {
          defaults.putIfAbsent(c.getName(), value);
        }
      }
    }
    for (RecordComponent c : RecordKeys.of(record)) {
      if (SectionKeys.required(c)) {
        defaults.remove(c.getName()); // a required key has no default, whatever was filled in to resolve the rest
      }
    }
    return defaults;
  }

  /** One instance with every key absent, or one per value of a required enum key. */
  private static List<Object> emptyInstances(Class<?> record) {
    RecordComponent[] components = record.getRecordComponents();
    Class<?>[] types = new Class<?>[components.length];
    int requiredEnum = -1;
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      if (types[i].isEnum() && SectionKeys.required(components[i])) {
        requiredEnum = i;
      }
    }
    List<Object> instances = new ArrayList<>();
    Object[] choices = requiredEnum < 0 ? new Object[] {null} : types[requiredEnum].getEnumConstants();
    for (Object choice : choices) {
      Object[] args = new Object[components.length];
      for (int i = 0; i < components.length; i++) {
        args[i] = types[i] == CommonBlockKeys.class ? CommonBlockKeys.NONE : null;
      }
      if (requiredEnum >= 0) {
        args[requiredEnum] = choice;
      }
      instances.add(construct(record, types, args));
    }
    return instances;
  }

  private static Object resolve(Object empty) {
    if (empty instanceof BlockConfig block) {
      return block.withDefaults(MODEL);
    }
    if (empty instanceof ModelConfig model) {
      return model.withDefaults().config();
    }
    for (Method m : empty.getClass().getMethods()) {
      if (m.getName().equals("withDefaults") && m.getParameterCount() <= 1 && m.getReturnType() == empty.getClass()) {
        return invoke(m, empty, m.getParameterCount() == 0 ? new Object[0] : new Object[] {null});
      }
    }
    for (Field f : empty.getClass().getFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == empty.getClass() && f.getName().equals("DEFAULT")) {
        try {
          return f.get(null);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return empty;
  }

  private static Object construct(Class<?> record, Class<?>[] types, Object[] args) {
    try {
      Constructor<?> canonical = record.getDeclaredConstructor(types);
      return canonical.newInstance(args);
    } catch (NoSuchMethodException | InstantiationException | IllegalAccessException e) {
      throw new IllegalStateException("cannot build an empty " + record.getName(), e);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException("cannot build an empty " + record.getName(), e.getCause());
    }
  }

  /** A key's value; a common key is read through the block's {@code common} component. */
  private static Object read(RecordComponent c, Object instance) {
    Object owner = RecordKeys.isCommon(c) && instance instanceof BlockConfig block ? block.common() : instance;
    return owner == null ? null : invoke(c.getAccessor(), owner, new Object[0]);
  }

  private static Object invoke(Method m, Object target, Object[] args) {
    try {
      return m.invoke(target, args);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    } catch (InvocationTargetException e) {
      throw new IllegalStateException(m + " failed on an empty " + target.getClass().getSimpleName(), e.getCause());
    }
  }
}
