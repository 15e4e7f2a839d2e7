package org.fastllm.dsl.problem;

/** How serious a {@link Problem} is: errors make a config invalid, warnings do not. */
public enum Severity {
  ERROR,
  WARNING
}
