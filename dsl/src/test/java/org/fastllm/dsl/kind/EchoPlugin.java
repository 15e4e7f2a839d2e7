package org.fastllm.dsl.kind;

import java.util.List;

/** Test plugin adding the {@code echo} kind. */
final class EchoPlugin extends BlockPlugin {
  @Override
  protected void configure() {
    addKind(EchoBlockConfig.class, config -> List.of());
  }
}
