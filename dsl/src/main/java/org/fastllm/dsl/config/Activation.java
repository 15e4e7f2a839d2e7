package org.fastllm.dsl.config;

/** The MLP's activation function. */
public enum Activation implements YamlEnum {
  SILU, GELU, RELU, SQUARED_RELU
}
