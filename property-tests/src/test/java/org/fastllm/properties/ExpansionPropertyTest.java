package org.fastllm.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
          assertEquals(written.model().numLayers(), layers.size(), "layers in the plan");
          for (LayerPlan layer : layers) {
            String expected = model.blockPattern().get(layer.index() % model.blockPattern().size());
            assertEquals(expected, layer.blockName(), "block of layer " + layer.index());
            assertTrue(model.blocks().containsKey(layer.blockName()), layer.blockName() + " is defined");
            assertEquals(model.blocks().get(layer.blockName()), layer.config(), "config of layer " + layer.index());
          }
          assertEquals(layers.size(), loaded.count().layers().size(), "layers counted");
        });
  }
}
