package org.fastllm.dsl.config;

/**
 * Which state-space mixer an ssm block uses: {@code mamba2} is Fast-LLM's d_xb mixer, {@code mamba2_standard} the
 * mixer of the Mamba-2 paper (transformers' {@code Mamba2Mixer}).
 */
public enum SsmVariant implements YamlEnum {
  MAMBA1, MAMBA2, DISCRETE_MAMBA2, MAMBA2_STANDARD
}
