package org.fastllm.example;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;

/**
 * Checks {@link ValidGatedConv}: with {@code causal: false} the kernel is centered on each position, taking
 * {@code (kernel_size - 1) / 2} taps from each side, so an even size would shift the output by half a step.
 *
 * <pre>{@code model.blocks.finn.kernel_size: must be odd when causal is false (a centered kernel ...), got 4}</pre>
 */
public final class GatedConvValidator implements ConstraintValidator<ValidGatedConv, GatedConvBlockConfig> {

  @Override
  public boolean isValid(GatedConvBlockConfig block, ConstraintValidatorContext context) {
    Integer kernel = block.kernelSize();
    if (kernel == null || kernel < 1 || !Boolean.FALSE.equals(block.causal()) || kernel % 2 == 1) {
      return true; // sizes below 1 are reported by @Min on the field
    }
    context.disableDefaultConstraintViolation();
    context.buildConstraintViolationWithTemplate("must be odd when causal is false (a centered kernel takes as many"
            + " taps from each side), got " + kernel)
        .addPropertyNode("kernelSize")
        .addConstraintViolation();
    return false;
  }
}
