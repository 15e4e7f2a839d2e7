package org.fastllm.dsl.config;

/** Rotary position embedding in attention, or none. */
public enum RotaryType implements YamlEnum {
  NONE, DEFAULT
}
