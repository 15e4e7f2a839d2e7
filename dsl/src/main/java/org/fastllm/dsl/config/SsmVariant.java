package org.fastllm.dsl.config;

/** Which state-space mixer an ssm block uses. */
public enum SsmVariant implements YamlEnum {
  MAMBA1, MAMBA2, DISCRETE_MAMBA2
}
