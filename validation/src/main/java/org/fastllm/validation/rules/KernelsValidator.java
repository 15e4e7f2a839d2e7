package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.rules.ValidKernels;

/** The rules of {@code training.kernels}: {@code scan_segments} is {@code auto} or a positive number. */
public final class KernelsValidator implements ConstraintValidator<ValidKernels, KernelsConfig> {

  @Override
  public boolean isValid(KernelsConfig kernels, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    if (kernels.scanSegments() != null && !kernels.scanSegments().isAuto() && kernels.scanSegments().value() < 1) {
      v.add("scan_segments", "must be 'auto' or at least 1, got " + kernels.scanSegments().value());
    }
    return v.valid();
  }
}
