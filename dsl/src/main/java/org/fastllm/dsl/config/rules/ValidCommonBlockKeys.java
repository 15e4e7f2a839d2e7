package org.fastllm.dsl.config.rules;

import jakarta.validation.Constraint;
import jakarta.validation.Payload;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Class-level constraint: the rules of the keys every block has that need the whole block (an MLP width that
 * overflows, LoRA on shared blocks, LoRA targets the kind's layout has). Declared once, on {@code BlockConfig}, so
 * every kind inherits it; a kind's record does not repeat it.
 *
 * <p>The validator lives in the validation module and is found through
 * {@code META-INF/services/jakarta.validation.ConstraintValidator}, so this module needs no validator code.
 */
@Documented
@Constraint(validatedBy = {})
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
public @interface ValidCommonBlockKeys {
  String message() default "is invalid";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};
}
