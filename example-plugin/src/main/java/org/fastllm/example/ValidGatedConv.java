package org.fastllm.example;

import jakarta.validation.Constraint;
import jakarta.validation.Payload;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Class-level constraint on a resolved {@link GatedConvBlockConfig}: a non-causal (centered) kernel has an odd
 * {@code kernel_size}.
 *
 * <pre>{@code finn: {kind: gated_conv, kernel_size: 4, causal: false}  // kernel_size: must be odd when ...}</pre>
 *
 * <p>Its validator, {@link GatedConvValidator}, ships in this jar and is found through
 * {@code META-INF/services/jakarta.validation.ConstraintValidator}, the same way core finds its own.
 */
@Documented
@Constraint(validatedBy = {})
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
public @interface ValidGatedConv {
  String message() default "is invalid";

  Class<?>[] groups() default {};

  Class<? extends Payload>[] payload() default {};
}
