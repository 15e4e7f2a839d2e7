package org.fastllm.dsl;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a config record as the configuration of one block kind, named by the {@code kind} key in YAML.
 *
 * <pre class="outline">{@code
 * @Block(kind = "transformer")
 * public record TransformerBlockConfig(...) implements BlockConfig { ... }
 * }</pre>
 *
 * <p><b>The kind string must equal the key under which the class is bound in the block-kind map.</b>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Block {
  /** The value of {@code kind:} that selects this config class. */
  String kind();

  /** One line describing the block, shown by {@code schema} and the config reference. */
  String description() default "";
}
