package org.fastllm.modules.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A run's {@code metrics.jsonl}: one JSON object per step, flushed as it is written, the first line of each process
 * also saying which kernels ran.
 *
 * <pre>
 * {"step":1,"loss":6.17,"lr":3.0E-4,"tokens_per_s":931,"grad_norm":6.41,"kernels":{"adamw":"fused","bf16_copies":"off
 *     (the run is on the CPU)"}}
 * {"step":2,"loss":5.66,"lr":6.0E-4,"tokens_per_s":1061,"grad_norm":5.67,"val_loss":5.49,"gpu_peak_gib":1.25}
 * </pre>
 *
 * <p><b>A resumed run keeps the lines of the steps up to the checkpoint's and drops the rest, by an atomic rename
 * before anything is appended</b>: truncating the file in place lost the whole history when the process was killed
 * before the first step's line was flushed.
 */
final class MetricsLog implements AutoCloseable {
  static final String FILE = "metrics.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;
  /** Written with the next line, then cleared. */
  private Map<String, String> kernels;

  private MetricsLog(BufferedWriter out, Map<String, String> kernels) {
    this.out = out;
    this.kernels = kernels.isEmpty() ? null : new LinkedHashMap<>(kernels);
  }

  /**
   * {@code output/metrics.jsonl}, keeping only the lines of steps up to {@code keepUpTo} from an earlier run (none
   * for 0); {@code kernels} (name to what ran) goes into the first line written.
   */
  static MetricsLog open(Path output, int keepUpTo, Map<String, String> kernels) throws IOException {
    Path file = output.resolve(FILE);
    List<String> kept = List.of();
    if (keepUpTo > 0 && Files.exists(file)) {
      kept = Files.readAllLines(file, StandardCharsets.UTF_8).stream()
          .filter(line -> stepOf(line) <= keepUpTo).toList();
    }
    replaceAtomically(file, kept.stream().map(line -> line + "\n").collect(Collectors.joining()));
    return new MetricsLog(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.APPEND,
        StandardOpenOption.WRITE), kernels);
  }

  /** A log that writes nothing: the processes other than rank 0. */
  static MetricsLog none() {
    return new MetricsLog(new BufferedWriter(Writer.nullWriter()), Map.of());
  }

  /** Appends the line of {@code r} and flushes it. */
  void write(StepReport r) throws IOException {
    ObjectNode line = JSON.createObjectNode();
    line.put("step", r.step());
    line.put("loss", r.loss());
    line.put("lr", r.learningRate());
    line.put("tokens_per_s", Math.round(r.tokensPerSecond()));
    line.put("grad_norm", r.gradNorm());
    if (r.validationLoss() != null) {
      line.put("val_loss", r.validationLoss());
    }
    if (r.devicePeakBytes() != null) {
      line.put("gpu_peak_gib", Math.round(r.devicePeakBytes() / 1073741824.0 * 100) / 100.0);
    }
    if (kernels != null) {
      ObjectNode ran = line.putObject("kernels");
      kernels.forEach(ran::put);
      kernels = null;
    }
    out.write(JSON.writeValueAsString(line));
    out.newLine();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    out.close();
  }

  private static long stepOf(String line) {
    try {
      return JSON.readTree(line).path("step").asLong(Long.MAX_VALUE);
    } catch (IOException e) {
      return Long.MAX_VALUE;
    }
  }

  /** Writes {@code text} to a hidden file beside {@code file}, forces it to disk and renames it over {@code file}. */
  private static void replaceAtomically(Path file, String text) throws IOException {
    Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buffer = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      channel.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
