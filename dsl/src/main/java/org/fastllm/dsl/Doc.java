package org.fastllm.dsl;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * What the config reference says about a key (on a record component) or about a section (on a record, or on
 * {@code BlockConfig} for every kind: its cross-key rules). With {@link Block}, the annotation a config record carries.
 *
 * <pre>{@code
 * record MlpKeys(
 *     @Doc(value = "MLP inner width; 0 leaves the MLP out", defaultValue = "4 x hidden_size") Integer ffnHiddenSize) {}
 * }</pre>
 *
 * <p>Types, allowed values, bounds and literal defaults are derived from the record and its {@code withDefaults},
 * so they are not repeated here. <b>{@code defaultValue} is only for a default that depends on other keys; when it
 * starts with a literal, that literal must be what {@code withDefaults} gives.</b>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.TYPE})
public @interface Doc {
  /** One sentence on what the key means (empty on a record that only lists rules). */
  String value() default "";

  /** The default in words, when it is not a constant: {@code "4 x hidden_size"}, {@code "required"}. */
  String defaultValue() default "";

  /** On a record: the rules its class-level validator checks across keys, one sentence each. */
  String[] rules() default {};
}
