package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossCurveTest {

  @Test
  void drawLossCurve_metricsWritten_writesAPng(@TempDir Path dir) throws Exception {
    Path metrics = dir.resolve("metrics.jsonl");
    Files.writeString(metrics, "{\"step\": 1, \"loss\": 5.0}\n{\"step\": 2, \"loss\": 4.0, \"val_loss\": 4.5}\n");

    assertThat(RunReport.drawLossCurve(metrics, dir.resolve("loss.png"), new PrintWriter(new StringWriter())))
        .isTrue();
    byte[] png = Files.readAllBytes(dir.resolve("loss.png"));
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
  }

  /** Regression: on a GPU host without font libraries the picture failed and turned a finished run into exit 1. */
  @Test
  void drawLossCurve_cannotDraw_warnsInsteadOfFailing(@TempDir Path dir) {
    StringWriter err = new StringWriter();

    boolean drawn = RunReport.drawLossCurve(dir.resolve("missing.jsonl"), dir.resolve("loss.png"),
        new PrintWriter(err, true));

    assertThat(drawn).isFalse();
    assertThat(err.toString()).startsWith("warning: could not draw loss.png (").contains("the losses are in");
  }
}
