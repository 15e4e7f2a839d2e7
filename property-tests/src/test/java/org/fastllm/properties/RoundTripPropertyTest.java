package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;

/** Property (d): a resolved config, written as YAML and read again, resolves to an equal config. */
class RoundTripPropertyTest {

  @Test
  void dumpThenLoad_resolvedConfig_givesAnEqualResolvedConfig() {
    Properties.check("dump of the resolved config reads back equal", 300,
        ConfigGenerators.documents().describedAs(ConfigPipeline::yaml), written -> {
          ConfigDocument resolved = ConfigPipeline.LOADER.check(written).resolved();
          String dumped = ConfigPipeline.yaml(resolved);
          LoadedConfig again = ConfigPipeline.LOADER.load("dumped.yaml", dumped);
          assertThat(again.resolved()).as(() -> "dumped as:\n" + dumped).isEqualTo(resolved);
          assertThat(again.written()).as("a resolved config is its own written form").isEqualTo(resolved);
        });
  }
}
