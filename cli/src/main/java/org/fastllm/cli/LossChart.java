package org.fastllm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The loss curve of a run as a PNG, drawn headless from its {@code metrics.jsonl}: training loss per step and
 * held-out loss where it was measured.
 *
 * <pre>{@code LossChart.write(Path.of("fastllm-run/metrics.jsonl"), Path.of("fastllm-run/loss.png"));}</pre>
 */
final class LossChart {
  private LossChart() {}

  static void write(Path metrics, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYSeries train = new XYSeries("training loss");
    XYSeries validation = new XYSeries("validation loss");
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(metrics, StandardCharsets.UTF_8)) {
      JsonNode row = json.readTree(line);
      train.add(row.path("step").asDouble(), row.path("loss").asDouble());
      if (row.has("val_loss")) {
        validation.add(row.path("step").asDouble(), row.path("val_loss").asDouble());
      }
    }
    XYSeriesCollection data = new XYSeriesCollection(train);
    if (!validation.isEmpty()) {
      data.addSeries(validation);
    }
    JFreeChart chart = ChartFactory.createXYLineChart("Loss", "step", "loss (nats/token)", data,
        PlotOrientation.VERTICAL, true, false, false);
    ChartUtils.saveChartAsPNG(png.toFile(), chart, 900, 500);
  }
}
