package org.fastllm.dsl.kind;

import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.layout.SsmLayout;
import org.fastllm.dsl.layout.TransformerLayout;

/** The kinds that ship with the tool: {@code transformer} and {@code ssm}. */
public final class CoreBlocksPlugin extends BlockPlugin {
  @Override
  protected void configure() {
    addKind(TransformerBlockConfig.class, new TransformerLayout());
    addKind(SsmBlockConfig.class, new SsmLayout());
  }
}
