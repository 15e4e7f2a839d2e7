package org.fastllm.modules.stack;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.SharedModuleVector;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.LoraConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.SsmVariant;
import org.junit.jupiter.api.Test;

class ModelModeTest {

  /** A shared attention block with per-use LoRA, an unshared SSM block: every kind of registered holder. */
  static ResolvedModel sharedStack() {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>();
    blocks.put("a", StackBuilderTest.ssm(SsmVariant.MAMBA2, false, false, 24));
    LoraConfig lora = new LoraConfig(2, 4.0, 0.1, List.of("query"), false, true);
    blocks.put("s", StackBuilderTest.attention("GQA", 4, 2, true, 3, true, 24, lora));
    return StackBuilderTest.model(blocks, List.of("s", "a", "s"), 5, false, true, NormType.RMS_NORM);
  }

  @Test
  void evalThenTrain_afterGarbageCollection_switchesEveryModuleEachTime() {
    for (int run = 0; run < 40; run++) {
      // no PointerScope around the build: a scope would hold every module it saw, as a user's program does not
      LanguageModel model = StackBuilder.installed().build(sharedStack());
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      model.eval();
      assertThat(modes(model)).as("run %d after eval()", run).containsOnly(false);
      model.train(true);
      assertThat(modes(model)).as("run %d after train()", run).containsOnly(true);
      model.close();
    }
  }

  private static List<Boolean> modes(Module model) {
    SharedModuleVector all = model.modules(true);
    Boolean[] modes = new Boolean[(int) all.size()];
    for (int i = 0; i < modes.length; i++) {
      modes[i] = all.get(i).is_training();
    }
    return List.of(modes);
  }
}
