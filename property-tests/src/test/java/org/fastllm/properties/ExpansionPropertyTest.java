package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;

/** Property (a): the expanded stack has one entry per layer, each naming a block whose resolved config it holds. */
class ExpansionPropertyTest {

  @Test
  void expand_validConfig_hasNumLayersEntriesThatResolve() {
    Properties.check("expansion has num_layers entries that resolve", 300,
        ConfigGenerators.documents().describedAs(ConfigPipeline::yaml), written -> {
          LoadedConfig loaded = ConfigPipeline.LOADER.load("generated.yaml", ConfigPipeline.yaml(written));
          ModelConfig model = loaded.model();
          List<LayerPlan> layers = loaded.plan().layers();
          assertThat(layers.size()).as("layers in the plan").isEqualTo(written.model().numLayers());
          for (LayerPlan layer : layers) {
            String expected = model.blockPattern().get(layer.index() % model.blockPattern().size());
            assertThat(layer.blockName()).as("block of layer " + layer.index()).isEqualTo(expected);
            assertThat(model.blocks().containsKey(layer.blockName())).as(layer.blockName() + " is defined").isTrue();
            assertThat(layer.config())
                .as("config of layer " + layer.index())
                .isEqualTo(model.blocks().get(layer.blockName()));
          }
          assertThat(loaded.count().layers().size()).as("layers counted").isEqualTo(layers.size());
        });
  }
}
