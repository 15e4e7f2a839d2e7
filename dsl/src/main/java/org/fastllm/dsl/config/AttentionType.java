package org.fastllm.dsl.config;

/** How query heads share key/value heads: one each (mha), one for all (mqa), or in groups (gqa). */
public enum AttentionType implements YamlEnum {
  MHA, MQA, GQA
}
