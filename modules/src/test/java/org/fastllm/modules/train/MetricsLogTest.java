package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsLogTest {
  @TempDir Path dir;

  static StepReport report(int step, Double validation, Long peakBytes) {
    return new StepReport(step, 10, 5.25, 3.0e-4, 1.5, 2710.4, validation, 1.0, 9.0, 256L * step, peakBytes);
  }

  static Map<String, String> kernels() {
    Map<String, String> kernels = new LinkedHashMap<>();
    kernels.put("adamw", "fused");
    kernels.put("bf16_copies", "off (the run is on the CPU)");
    return kernels;
  }

  @Test
  void write_firstLine_carriesTheKernels_laterLinesDoNot() throws IOException {
    try (MetricsLog log = MetricsLog.open(dir, 0, kernels())) {
      log.write(report(1, null, null));
      log.write(report(2, 4.5, 3L * 1073741824 / 2));
    }

    assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).containsExactly(
        "{\"step\":1,\"loss\":5.25,\"lr\":3.0E-4,\"tokens_per_s\":2710,\"grad_norm\":1.5,"
            + "\"kernels\":{\"adamw\":\"fused\",\"bf16_copies\":\"off (the run is on the CPU)\"}}",
        "{\"step\":2,\"loss\":5.25,\"lr\":3.0E-4,\"tokens_per_s\":2710,\"grad_norm\":1.5,\"val_loss\":4.5,"
            + "\"gpu_peak_gib\":1.5}");
  }

  @Test
  void open_resumed_keepsTheLinesUpToTheCheckpointAndDropsTheRest() throws IOException {
    try (MetricsLog log = MetricsLog.open(dir, 0, Map.of())) {
      for (int step = 1; step <= 5; step++) {
        log.write(report(step, null, null));
      }
    }

    try (MetricsLog log = MetricsLog.open(dir, 3, Map.of())) {
      assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).hasSize(3)
          .allSatisfy(line -> assertThat(line).doesNotContain("\"step\":4", "\"step\":5"));
      log.write(report(4, null, null));
    }

    assertThat(Files.readAllLines(dir.resolve("metrics.jsonl"))).extracting(line -> line.substring(0, 9))
        .containsExactly("{\"step\":1", "{\"step\":2", "{\"step\":3", "{\"step\":4");
    assertThat(dir.resolve(".metrics.jsonl.tmp")).doesNotExist();
  }

  @Test
  void open_fromTheStart_replacesAnEarlierRunsLines() throws IOException {
    Files.writeString(dir.resolve("metrics.jsonl"), "{\"step\":1,\"loss\":9.0}\n");

    try (MetricsLog log = MetricsLog.open(dir, 0, Map.of())) {
      assertThat(Files.readString(dir.resolve("metrics.jsonl"))).isEmpty();
    }
  }
}
