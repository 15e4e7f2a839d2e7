package org.fastllm.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code describe FILE}: the expanded stack, exact parameter counts and a rough estimate of training memory
 * ({@link MemoryEstimate}), before any tensor exists; {@code --json}
 * for data, {@code --resolved} for the config with every default written out.
 */
@Command(name = "describe", mixinStandardHelpOptions = true,
    description = {"Show the expanded stack and exact parameter counts, from the config alone.",
        "Lists layer, block, kind and sharing; parameters per block (unique and effective); totals."})
final class DescribeCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "YAML config file.")
  Path file;

  @Option(names = "--json", description = "Print the description as JSON.")
  boolean json;

  @Option(names = "--resolved", description = "Print the config with every default written out (YAML), stable key order.")
  boolean resolved;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ConfigLoader loader = ConfigLoader.standard();
    LoadedConfig config = ConfigFiles.load(file, err);
    if (resolved) {
      out.print(ConfigMapper.yaml(loader.kinds()).writeValueAsString(config.resolved()));
    } else if (json) {
      ObjectMapper mapper = ConfigMapper.json(loader.kinds());
      out.println(mapper.writeValueAsString(Description.of(config)));
    } else {
      new StackTable(config).print(out);
      out.println();
      out.println("Training memory: " + MemoryEstimate.of(config.count(), config.resolved().withRunDefaults()).render());
    }
    out.flush();
    return Main.OK;
  }

  /** What {@code describe --json} prints. */
  record Description(String source, int numLayers, int hiddenSize, int vocabSize, boolean legacy,
      List<BlockRow> blocks, List<org.fastllm.dsl.count.LayerCount> layers, Totals totals, List<String> warnings,
      MemoryEstimate trainingMemory) {

    static Description of(LoadedConfig c) {
      var count = c.count();
      List<BlockRow> blocks = count.blocks().stream().map(b -> new BlockRow(b.name(), b.kind(),
          BlockSummary.of(c.model().blocks().get(b.name())), b.shared(), b.uses(), c.plan().positionsOf(b.name()),
          b.perUse(), b.unique(), b.effective(), b.lora(), b.trainable(),
          b.tensors().stream().map(t -> new TensorRow(t.name(), t.shape())).toList())).toList();
      Totals totals = new Totals(count.embeddings(), count.positionEmbeddings(),
          count.blocks().stream().mapToLong(org.fastllm.dsl.count.BlockCount::unique).sum(), count.effectiveBlocks(),
          count.finalNorm(), count.head(), count.base(), count.lora(), count.total(), count.trainable());
      return new Description(c.source(), c.model().numLayers(), c.model().hiddenSize(), c.model().vocabSize(),
          c.legacy(), blocks, count.layers(), totals, c.warnings().stream().map(Problem::render).toList(),
          MemoryEstimate.of(count, c.resolved().withRunDefaults()));
    }
  }

  record BlockRow(String name, String kind, String summary, boolean shared, int uses, List<Integer> positions,
      long perUse, long unique, long effective, long lora, long trainable, List<TensorRow> tensors) {}

  record TensorRow(String name, List<Long> shape) {}

  record Totals(long embeddings, long positionEmbeddings, long blocksUnique, long blocksEffective, long finalNorm,
      long head, long base, long lora, long total, long trainable) {}
}
