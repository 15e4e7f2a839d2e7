package org.fastllm.dsl.kind;

import java.util.List;

/** Test plugin that claims {@code echo} too, as a second jar shipping the same kind would. */
final class RivalEchoPlugin extends BlockPlugin {
  @Override
  protected void configure() {
    addKind(EchoBlockConfig.class, config -> List.of());
  }
}
