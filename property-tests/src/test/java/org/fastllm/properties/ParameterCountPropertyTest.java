package org.fastllm.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.count.BlockCount;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.dsl.count.ModelTensors;
import org.fastllm.dsl.layout.TensorSpec;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;

/** Properties (b) and (c): how the base parameter count is made up, and what sharing a block's weights saves. */
class ParameterCountPropertyTest {

  @Test
  void count_validConfig_baseIsBlocksPlusEmbeddingsNormAndHead() {
    Properties.check("base = unique block parameters + embeddings + positions + final norm + head", 300,
        ConfigGenerators.documents().describedAs(ConfigPipeline::yaml), written -> {
          LoadedConfig loaded = ConfigPipeline.LOADER.check(written);
          ModelCount count = loaded.count();
          ModelConfig model = loaded.model();
          long blocks = count.blocks().stream().mapToLong(BlockCount::unique).sum();
          assertEquals(blocks + count.embeddings() + count.positionEmbeddings() + count.finalNorm() + count.head(),
              count.base(), "base");
          assertEquals(model.tiedEmbeddingWeight(), count.head() == 0, "head is 0 exactly when tied");
          if (!model.tiedEmbeddingWeight()) {
            assertEquals((long) model.vocabSize() * model.hiddenSize(), count.head(), "untied head [vocab, H]");
          }
          assertEquals(count.base() + count.lora(), count.total(), "total");
        });
  }

  @Test
  void count_validConfig_totalAndLoraEqualSumsOverModelTensors() {
    Properties.check("total = sum over ModelTensors (adapters included); lora = sum over the adapter tensors", 300,
        ConfigGenerators.documents().describedAs(ConfigPipeline::yaml), written -> {
          LoadedConfig loaded = ConfigPipeline.LOADER.check(written);
          List<TensorSpec> tensors = ModelTensors.of(loaded.model(), ConfigPipeline.LOADER.kinds());
          assertEquals(tensors.size(), tensors.stream().map(TensorSpec::name).distinct().count(), "names are unique");
          assertEquals(loaded.count().total(), tensors.stream().mapToLong(TensorSpec::numel).sum(), "total");
          assertEquals(loaded.count().lora(), tensors.stream()
              .filter(t -> t.name().startsWith("adapters.") || t.name().contains(".lora."))
              .mapToLong(TensorSpec::numel).sum(), "lora");
        });
  }

  /** A generated config and one block of it that is not shared and used at least once. */
  record UnsharedUse(ConfigDocument written, String block) {}

  @Test
  void count_sharingABlockUsedUTimes_lowersBaseByUMinusOnePerUseSizes() {
    Arbitrary<UnsharedUse> cases = draw -> {
      ConfigDocument doc = ConfigGenerators.documents().next(draw);
      ModelConfig model = doc.model();
      List<String> used = model.blockPattern().subList(0, Math.min(model.numLayers(), model.blockPattern().size()));
      String name = draw.pick(used);
      return new UnsharedUse(withShared(doc, name, draw.pick(Draw.of(null, false))), name);
    };
    Properties.check("shared_weights on a block used u times lowers base by (u - 1) x its per-use size", 300,
        cases.describedAs(c -> "block " + c.block() + " of\n" + ConfigPipeline.yaml(c.written())), c -> {
          LoadedConfig unshared = ConfigPipeline.LOADER.check(c.written());
          LoadedConfig shared = ConfigPipeline.LOADER.check(withShared(c.written(), c.block(), true));
          BlockCount block = blockCount(unshared.count(), c.block());
          assertFalse(block.shared(), "the block starts unshared");
          long uses = block.uses();
          assertEquals(unshared.plan().positionsOf(c.block()).size(), uses, "uses");
          assertEquals((uses - 1) * block.perUse(), unshared.count().base() - shared.count().base(),
              "base saved by sharing " + c.block() + " (" + uses + " uses of " + block.perUse() + ")");
        });
  }

  private static BlockCount blockCount(ModelCount count, String name) {
    return count.blocks().stream().filter(b -> b.name().equals(name)).findFirst().orElseThrow();
  }

  /**
   * The document with {@code shared_weights} of one block set (null leaves it to the default, false); unsharing
   * also drops {@code lora.per_use}, which needs sharing.
   */
  static ConfigDocument withShared(ConfigDocument doc, String name, Boolean shared) {
    Map<String, BlockConfig> blocks = new LinkedHashMap<>(doc.model().blocks());
    BlockConfig block = RecordCopies.with(blocks.get(name), "sharedWeights", shared);
    if (!Boolean.TRUE.equals(shared) && block.lora() != null) {
      block = RecordCopies.with(block, "lora", RecordCopies.with(block.lora(), "perUse", null));
    }
    blocks.put(name, block);
    ModelConfig m = doc.model();
    return new ConfigDocument(new ModelConfig(m.hiddenSize(), m.vocabSize(), m.tiedEmbeddingWeight(), m.normalization(),
        blocks, m.blockPattern(), m.numLayers(), m.maxSequenceLength(), m.positionEmbeddings()));
  }
}
