package org.fastllm.dsl.kind;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class BlockPluginTest {

  /** Regression: a plugin loaded from a classes folder (path ending in '/') was described as "Name ()". */
  @Test
  void describe_pluginInClassesFolder_namesTheFolder() {
    assertEquals("org.fastllm.dsl.kind.EchoPlugin (test-classes)", new EchoPlugin().describe());
  }

  @Test
  void describe_corePlugin_namesItsClassAndOrigin() {
    assertEquals("org.fastllm.dsl.kind.CoreBlocksPlugin (classes)", new CoreBlocksPlugin().describe());
  }
}
