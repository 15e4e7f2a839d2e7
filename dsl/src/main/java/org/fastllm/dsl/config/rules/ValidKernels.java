package org.fastllm.dsl.config.rules;

import jakarta.validation.Constraint;
import jakarta.validation.Payload;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Class-level constraint: the rules of the {@code training.kernels} section ({@code scan_segments} is auto or at least 1).
 *
 * <p>The validator lives in the validation module and is found through
 * {@code META-INF/services/jakarta.validation.ConstraintValidator}, so this module needs no validator code.
 */
@Documented
@Constraint(validatedBy = {})
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
public @interface ValidKernels {
  String message() default "is invalid";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};
}
