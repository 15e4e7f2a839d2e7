package org.fastllm.dsl.config;

/**
 * Whether a hand-written kernel runs: {@code auto} where it can (falling back to tensor operations elsewhere),
 * {@code on} (a run where it cannot stops with the reason), {@code off} (tensor operations always).
 */
public enum KernelChoice implements YamlEnum {
  AUTO, ON, OFF
}
