package org.fastllm.dsl.config;

/** How a block normalizes its input. */
public enum NormType implements YamlEnum {
  LAYER_NORM, RMS_NORM
}
