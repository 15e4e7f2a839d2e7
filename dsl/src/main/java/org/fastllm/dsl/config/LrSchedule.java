package org.fastllm.dsl.config;

/** How the learning rate falls after warmup: to {@code min_learning_rate} along a cosine or a line, or not at all. */
public enum LrSchedule implements YamlEnum {
  COSINE, LINEAR, CONSTANT
}
