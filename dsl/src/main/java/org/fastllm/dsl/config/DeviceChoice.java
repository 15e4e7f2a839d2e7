package org.fastllm.dsl.config;

/** Where training runs: {@code auto} takes the GPU when libtorch sees one, else the CPU. */
public enum DeviceChoice implements YamlEnum {
  AUTO, CPU, CUDA
}
