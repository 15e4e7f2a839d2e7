package org.fastllm.dsl.config.rules;

import jakarta.validation.Constraint;
import jakarta.validation.Payload;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Class-level constraint: the rules that span sections of a config file (the training's sequence length against
 * the model's learned position embeddings, the tokenizer's ids against the vocabulary).
 *
 * <p>The validator lives in the validation module and is found through
 * {@code META-INF/services/jakarta.validation.ConstraintValidator}, so this module needs no validator code.
 */
@Documented
@Constraint(validatedBy = {})
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
public @interface ValidDocument {
  String message() default "is invalid";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};
}
