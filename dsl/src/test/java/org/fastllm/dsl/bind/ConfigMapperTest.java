package org.fastllm.dsl.bind;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.yaml.YamlTreeReader;
import org.junit.jupiter.api.Test;

class ConfigMapperTest {
  private static final BlockKindRegistry KINDS = BlockKindRegistry.installed();

  /** Found by the round-trip property: blocks were written as {@code !<ssm>} tags plus a {@code shared} key. */
  @Test
  void yaml_writtenBlock_readsBackEqual() throws Exception {
    ConfigDocument doc = new ConfigDocument(new ModelConfig(64, null, null, null,
        Map.of("claire", SsmBlockConfig.of(SsmVariant.MAMBA1)), List.of("claire"), 2, null, null));

    String yaml = ConfigMapper.yaml(KINDS).writeValueAsString(doc);

    assertEquals("""
        model:
          hidden_size: 64
          blocks:
            claire:
              kind: ssm
              variant: mamba1
          block_pattern:
          - claire
          num_layers: 2
        """, yaml);
    assertEquals(doc, new ConfigBinder(KINDS).bind(new YamlTreeReader().read("written.yaml", yaml)));
  }
}
