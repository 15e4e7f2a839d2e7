package org.fastllm.dsl.kind;

import org.fastllm.dsl.Block;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelDefaults;

/** A test-only block kind with no keys of its own, for registry tests that must not depend on a real kind. */
@Block(kind = "echo", description = "returns its input; tests only")
record EchoBlockConfig(CommonBlockKeys common) implements BlockConfig {

  @Override
  public BlockConfig withDefaults(ModelDefaults defaults) {
    return this;
  }
}
