package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidatorContext;

/**
 * Adds problems found by a class-level validator, each attached to the key it is about.
 *
 * <pre>{@code
 * // given ConstraintValidatorContext context
 * Violations v = new Violations(context); v.add("head_groups", "must divide num_heads (16), got 5");
 * }</pre>
 */
final class Violations {
  private final ConstraintValidatorContext context;
  private boolean any;

  Violations(ConstraintValidatorContext context) {
    this.context = context;
    context.disableDefaultConstraintViolation();
  }

  /** A problem on {@code key} (a snake_case key of the validated record, or a dotted path below it). */
  void add(String key, String message) {
    var builder = context.buildConstraintViolationWithTemplate(escape(message));
    String[] parts = key.split("\\.");
    var node = builder.addPropertyNode(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      node = node.addPropertyNode(parts[i]);
    }
    node.addConstraintViolation();
    any = true;
  }

  boolean valid() {
    return !any;
  }

  /** Message templates treat braces and dollars as expressions; user values must not be read as such. */
  static String escape(String message) {
    return message.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}").replace("$", "\\$");
  }
}
