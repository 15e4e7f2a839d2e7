package org.fastllm.dsl.config;

/** Compute precision: {@code auto} is bf16 autocast on CUDA and fp32 on the CPU; weights stay fp32. */
public enum Precision implements YamlEnum {
  AUTO, FP32, BF16
}
