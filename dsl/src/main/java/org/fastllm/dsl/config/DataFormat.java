package org.fastllm.dsl.config;

/** How a data file is stored: UTF-8 text to tokenize, or token ids already tokenized (little-endian). */
public enum DataFormat implements YamlEnum {
  TEXT, TOKENS_U16, TOKENS_U32
}
