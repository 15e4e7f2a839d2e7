package org.fastllm.dsl.kind;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BlockPluginTest {

  /** Regression: a plugin loaded from a classes folder (path ending in '/') was described as "Name ()". */
  @Test
  void describe_pluginInClassesFolder_namesTheFolder() {
    assertThat(new EchoPlugin().describe()).isEqualTo("org.fastllm.dsl.kind.EchoPlugin (test-classes)");
  }

  @Test
  void describe_corePlugin_namesItsClassAndOrigin() {
    assertThat(new CoreBlocksPlugin().describe()).isEqualTo("org.fastllm.dsl.kind.CoreBlocksPlugin (classes)");
  }
}
