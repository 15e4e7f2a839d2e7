package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code train} in a child JVM, for the integration tests that kill, stop and resume runs, and the losses a run
 * wrote.
 */
final class TrainProcesses {
  private static final Pattern LOSS = Pattern.compile("\"step\":(\\d+),\"loss\":([^,]+),");

  private TrainProcesses() {}

  /**
   * A CPU run of a two-layer attention and discrete Mamba 2 model small enough that a step takes milliseconds,
   * written to {@code file}; {@code checkpoint} is the flow mapping of its {@code checkpoint} section.
   */
  static Path tinyRun(Path file, int steps, int batch, String checkpoint) throws IOException {
    Files.writeString(file, """
        model:
          hidden_size: 16
          vocab_size: 256
          blocks:
            a: {kind: transformer, num_heads: 2, ffn_hidden_size: 32}
            m: {kind: ssm, variant: discrete_mamba2, state_size: 4, n_qk_heads: 2, n_v_heads: 2, chunk_size: 8,
                ffn_hidden_size: 32}
          block_pattern: [a, m]
          num_layers: 2
        training: {steps: %d, batch_size: %d, sequence_length: 16, seed: 5, device: cpu, eval_interval: 0,
                   log_interval: 1000}
        checkpoint: %s
        """.formatted(steps, batch, checkpoint));
    return file;
  }

  /**
   * {@code train args} with its output in {@code log}, on one OpenMP thread so that runs compute alike on any
   * machine; with a {@code fault} the child is {@link SaveFaults}, which installs that fault and then runs
   * {@link Main} alike.
   */
  static Process train(Path log, String fault, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path")));
    if (fault != null) {
      command.add(SaveFaults.class.getName());
      command.add(fault);
    } else {
      command.add(Main.class.getName());
    }
    command.add("train");
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().put("OMP_NUM_THREADS", "1");
    return builder.start();
  }

  /** "step:loss" per metrics line, the loss as written (all its digits). */
  static List<String> losses(Path metrics) throws IOException {
    List<String> out = new ArrayList<>();
    for (String line : Files.readAllLines(metrics)) {
      Matcher m = LOSS.matcher(line);
      assertThat(m.find()).as(line).isTrue();
      out.add(m.group(1) + ":" + m.group(2));
    }
    return out;
  }
}
