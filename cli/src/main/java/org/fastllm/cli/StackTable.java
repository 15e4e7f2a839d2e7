package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.fastllm.dsl.count.BlockCount;
import org.fastllm.dsl.count.LayerCount;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.validation.load.LoadedConfig;

/** The text tables of {@code describe}: blocks, the stack layer by layer, totals. */
final class StackTable {
  private final LoadedConfig config;

  StackTable(LoadedConfig config) {
    this.config = config;
  }

  void print(PrintWriter out) {
    var model = config.model();
    ModelCount count = config.count();
    out.printf("%s: %d layers, hidden %d, vocab %d%s%n%n", config.source(), model.numLayers(), model.hiddenSize(),
        model.vocabSize(), config.legacy() ? " (old format, migrated on load)" : "");
    Table blocks = new Table("block", "kind", "what", "shared", "uses", "params/use", "unique", "effective", "lora");
    for (BlockCount b : count.blocks()) {
      blocks.row(b.name(), b.kind(), BlockSummary.of(model.blocks().get(b.name())), b.shared() ? "yes" : "no",
          Integer.toString(b.uses()), Numbers.grouped(b.perUse()), Numbers.grouped(b.unique()),
          Numbers.grouped(b.effective()), Numbers.grouped(b.lora()));
    }
    out.println("Blocks");
    blocks.print(out);
    out.println();
    Table layers = new Table("layer", "block", "kind", "shared", "params");
    for (LayerCount l : count.layers()) {
      String shared = l.shared() ? "yes (use " + (l.use() + 1) + " of " + config.plan().positionsOf(l.blockName()).size()
          + ")" : "no";
      layers.row(Integer.toString(l.index()), l.blockName(), l.kind(), shared, Numbers.grouped(l.parameters()));
    }
    out.println("Stack");
    layers.print(out);
    out.println();
    out.println("Shared blocks");
    boolean anyShared = false;
    for (BlockCount b : count.blocks()) {
      if (b.shared()) {
        anyShared = true;
        out.printf("  %s: one parameter set used at layers %s%n", b.name(),
            config.plan().positionsOf(b.name()).stream().map(String::valueOf).collect(Collectors.joining(", ")));
      }
    }
    if (!anyShared) {
      out.println("  none");
    }
    out.println();
    Table totals = new Table("part", "parameters");
    totals.row("embeddings", Numbers.grouped(count.embeddings()));
    if (count.positionEmbeddings() > 0) {
      totals.row("position embeddings", Numbers.grouped(count.positionEmbeddings()));
    }
    long unique = count.blocks().stream().mapToLong(BlockCount::unique).sum();
    totals.row("blocks (unique)", Numbers.grouped(unique));
    totals.row("blocks (effective)", Numbers.grouped(count.effectiveBlocks()));
    totals.row("final norm", Numbers.grouped(count.finalNorm()));
    totals.row("head", count.head() == 0 ? "0 (tied to embeddings)" : Numbers.grouped(count.head()));
    totals.row("lora (trainable)", Numbers.grouped(count.lora()));
    totals.row("total", Numbers.grouped(count.total()) + " (" + Numbers.short_(count.total()) + ")");
    totals.row("trainable", Numbers.grouped(count.trainable()));
    out.println("Totals");
    totals.print(out);
  }

  /** Left-aligned text columns, numbers right-aligned. */
  private static final class Table {
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      rows.add(header);
    }

    void row(String... cells) {
      rows.add(cells);
    }

    void print(PrintWriter out) {
      int columns = rows.get(0).length;
      int[] width = new int[columns];
      for (String[] row : rows) {
        for (int i = 0; i < columns; i++) {
          width[i] = Math.max(width[i], row[i].length());
        }
      }
      for (String[] row : rows) {
        StringBuilder line = new StringBuilder(" ");
        for (int i = 0; i < columns; i++) {
          boolean numeric = row != rows.get(0) && row[i].matches("[0-9,]+");
          String cell = numeric ? pad(row[i], width[i], true) : pad(row[i], width[i], false);
          line.append(' ').append(cell);
        }
        out.println(line.toString().stripTrailing());
      }
    }

    private static String pad(String s, int width, boolean right) {
      String fill = " ".repeat(width - s.length());
      return right ? fill + s : s + fill;
    }
  }
}
