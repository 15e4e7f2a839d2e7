import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Draws the training comparison of bench/gpu/train.sh (its train-compare output) as grouped bars: tokens/s of Java,
 * Java without its kernels and Python with fused AdamW, per case, each relative to Python. Run by
 * bench/training-chart.sh.
 */
public final class TrainingChart {
  private static final Pattern ROW = Pattern.compile(
      "^(\\S+)\\s+(java \\(mean of 2\\)|java \\(defaults\\)|  java-tensor-ops|python-fused \\(mean\\))\\s+[\\d,]+\\s+([\\d,]+)\\s.*");

  public static void main(String[] args) throws IOException {
    List<String> lines = Files.readAllLines(Path.of(args[0]));
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    java.util.Map<String, java.util.Map<String, Double>> byCase = new java.util.LinkedHashMap<>();
    for (String line : lines) {
      Matcher m = ROW.matcher(line);
      if (m.matches()) {
        String series = switch (m.group(2).trim()) {
          case "java (mean of 2)", "java (defaults)" -> "Java";
          case "java-tensor-ops" -> "Java without its kernels";
          default -> "Python, fused AdamW";
        };
        byCase.computeIfAbsent(m.group(1), k -> new java.util.LinkedHashMap<>())
            .put(series, Double.parseDouble(m.group(3).replace(",", "")));
      }
    }
    byCase.forEach((name, rates) -> {
      double python = rates.getOrDefault("Python, fused AdamW", Double.NaN);
      for (String series : List.of("Python, fused AdamW", "Java without its kernels", "Java")) {
        // a series no case has (no run without the kernels in this file) is left out of the legend
        if (byCase.values().stream().anyMatch(r -> r.containsKey(series))) {
          data.addValue(rates.getOrDefault(series, Double.NaN) / python, series, name);
        }
      }
    });
    JFreeChart chart = ChartFactory.createBarChart("Training speed on one H200, relative to Python PyTorch",
        "", "tokens/s relative to Python (fused AdamW) = 1", data, PlotOrientation.VERTICAL, true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    BarRenderer bars = (BarRenderer) plot.getRenderer();
    bars.setSeriesPaint(0, new Color(0x9e9e9e));
    bars.setSeriesPaint(1, new Color(0x90caf9));
    bars.setSeriesPaint(2, new Color(0x1565c0));
    bars.setShadowVisible(false);
    bars.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
    bars.setDefaultItemLabelGenerator(new org.jfree.chart.labels.StandardCategoryItemLabelGenerator(
        "{2}", new java.text.DecimalFormat("0.00")));
    bars.setDefaultItemLabelsVisible(true);
    ChartUtils.saveChartAsPNG(Path.of(args[1]).toFile(), chart, 900, 480);
  }
}
