package org.fastllm.modules.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.DataFormat;
import org.fastllm.modules.data.TokenizationProgress;
import org.fastllm.modules.data.Tokenizer;
import org.fastllm.modules.data.TrainingData;

/**
 * Tokenizes a text file the way {@code train} does (in pieces on every core, into the token cache beside it), or, with
 * {@code whole}, as one string in one call, the way it did before; prints the ids and MB/s. Run by
 * {@code bench/tokenize.sh}.
 *
 * <pre class="text">java -cp ... org.fastllm.modules.bench.TokenizeBench corpus.txt tokenizer.json stream</pre>
 */
public final class TokenizeBench {
  private TokenizeBench() { }

  public static void main(String[] args) throws Exception {
    Path text = Path.of(args[0]);
    String tokenizer = args[1];
    boolean whole = args.length > 2 && args[2].equals("whole");
    long start = System.nanoTime();
    double cpuStart = cpuSeconds();
    long ids;
    if (whole) {
      ids = Tokenizer.named(tokenizer).encode(Files.readString(text)).length;
    } else {
      TokenizationProgress progress = new TokenizationProgress() {
        @Override
        public void tokenized(long done, long total) { }

        @Override
        public void note(String line) {
          System.err.println(line);
        }
      };
      TrainingData data = TrainingData.load(new DataConfig(text.toString(), DataFormat.TEXT, tokenizer, 0.0),
          1 << 20, () -> "", progress);
      ids = data.train().size();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "%s: %,d ids from %,.1f MB in %.1f s: %.1f MB/s%n", whole ? "whole" : "stream",
        ids, Files.size(text) / 1e6, seconds, Files.size(text) / 1e6 / seconds);
    double cpu = cpuSeconds() - cpuStart;
    System.out.printf(Locale.ROOT, "  peak RSS %,d MB, CPU %.1f s in those %.1f s on %d cores (%.0f%% of one core)%n",
        peakRssKb() / 1024, cpu, seconds, Runtime.getRuntime().availableProcessors(), 100 * cpu / seconds);
  }

  /** VmHWM of /proc/self/status: the most resident memory the process has had, in kB. */
  private static long peakRssKb() throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IllegalStateException("no VmHWM line in /proc/self/status");
  }

  /** User and system time of the whole process (every thread, the JVM's own included), from /proc/self/stat. */
  private static double cpuSeconds() throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }
}
