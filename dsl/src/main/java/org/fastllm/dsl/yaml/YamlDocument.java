package org.fastllm.dsl.yaml;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A parsed config document: its tree and where each path came from.
 *
 * @param source the name used in messages (a file path, or {@code <string>})
 */
public record YamlDocument(String source, JsonNode root, SourceMap sourceMap) {}
