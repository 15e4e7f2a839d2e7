package org.fastllm.dsl.kind;

import java.util.List;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.layout.ParameterLayout;
import org.fastllm.dsl.layout.TensorSpec;

/**
 * A block kind as the config side knows it: its {@code kind} string, its config record and its parameter layout.
 *
 * <pre>{@code
 * // given BlockKindRegistry registry
 * registry.kind("transformer").configClass()  // TransformerBlockConfig.class
 * }</pre>
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
    BlockRecordShape.check(configClass);
    return new BlockKind<>(kind, configClass, layout);
  }

  /** The tensors of a resolved block of this kind. */
  public List<TensorSpec> tensors(BlockConfig resolved) {
    return layout.tensors(configClass.cast(resolved));
  }
}
