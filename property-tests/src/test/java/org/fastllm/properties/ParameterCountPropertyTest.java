package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

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
          assertThat(count.base())
              .as("base")
              .isEqualTo(blocks + count.embeddings() + count.positionEmbeddings() + count.finalNorm() + count.head());
          assertThat(count.head() == 0).as("head is 0 exactly when tied").isEqualTo(model.tiedEmbeddingWeight());
          if (!model.tiedEmbeddingWeight()) {
            assertThat(count.head())
                .as("untied head [vocab, H]")
                .isEqualTo((long) model.vocabSize() * model.hiddenSize());
          }
          assertThat(count.total()).as("total").isEqualTo(count.base() + count.lora());
        });
  }

  @Test
  void count_validConfig_totalAndLoraEqualSumsOverModelTensors() {
    Properties.check("total = sum over ModelTensors (adapters included); lora = sum over the adapter tensors", 300,
        ConfigGenerators.documents().describedAs(ConfigPipeline::yaml), written -> {
          LoadedConfig loaded = ConfigPipeline.LOADER.check(written);
          List<TensorSpec> tensors = ModelTensors.of(loaded.model(), ConfigPipeline.LOADER.kinds());
          assertThat(tensors.stream().map(TensorSpec::name).distinct().count())
              .as("names are unique")
              .isEqualTo(tensors.size());
          assertThat(tensors.stream().mapToLong(TensorSpec::numel).sum()).as("total").isEqualTo(loaded.count().total());
          assertThat(tensors.stream()
              .filter(t -> t.name().startsWith("adapters.") || t.name().contains(".lora."))
              .mapToLong(TensorSpec::numel).sum()).as("lora").isEqualTo(loaded.count().lora());
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
          assertThat(block.shared()).as("the block starts unshared").isFalse();
          long uses = block.uses();
          assertThat(uses).as("uses").isEqualTo(unshared.plan().positionsOf(c.block()).size());
          assertThat(unshared.count().base() - shared.count().base())
              .as("base saved by sharing " + c.block() + " (" + uses + " uses of " + block.perUse() + ")")
              .isEqualTo((uses - 1) * block.perUse());
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
