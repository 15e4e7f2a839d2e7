package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.bytedeco.pytorch.SharedModuleVector;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The public API's path from a checkpoint to eval mode, on a stack with a shared block. */
class RestoredModelModeTest {
  @TempDir Path dir;

  @Test
  void evalAfterRestoreWeights_manyModelsWithGarbageCollections_switchesEveryModule() throws IOException {
    String yaml = TrainerTest.yaml(dir.resolve("run"), "");
    TrainerTest.trainer(yaml, Optional.empty()).run(report -> { });
    Checkpoint.Loaded loaded = Checkpoint.load(dir.resolve("run"));
    ConfigDocument config = TrainerTest.config(yaml);

    for (int run = 0; run < 20; run++) {
      LanguageModel model = StackBuilder.installed().build(config.model().withDefaults(), config.training().kernels());
      Checkpoint.restoreWeights(loaded, model);
      System.gc();
      model.eval();
      assertThat(modes(model)).as("run %d after eval()", run).containsOnly(false);
      model.train(true);
      assertThat(modes(model)).as("run %d after train(true)", run).containsOnly(true);
      model.close();
    }
  }

  private static List<Boolean> modes(LanguageModel model) {
    SharedModuleVector all = model.modules(true);
    List<Boolean> modes = new ArrayList<>();
    for (long i = 0; i < all.size(); i++) {
      modes.add(all.get(i).is_training());
    }
    return modes;
  }
}
