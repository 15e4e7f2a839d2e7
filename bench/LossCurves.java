import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Draws the loss curves of bench/gpu/curves.sh: one panel per case, the held-out loss of each run (dots joined by
 * lines) over its training loss averaged over the last {@code WINDOW} steps (thin), Java in blue and Python in orange,
 * seed 1 solid and later seeds dashed; the loss axis starts at the first eighth of the steps. Run by
 * bench/curves-chart.sh.
 */
public final class LossCurves {
  private static final Pattern NAME = Pattern.compile("curve-(.+)-(java|python)-s(\\d+)\\.jsonl");
  private static final Pattern STEP = Pattern.compile("\"step\": ?(\\d+)");
  private static final Pattern LOSS = Pattern.compile("\"loss\": ?([-0-9.eE]+)");
  private static final Pattern VAL = Pattern.compile("\"val_loss\": ?([-0-9.eE]+)");
  private static final int WINDOW = 50;
  private static final int WIDTH = 900;
  private static final int PANEL = 460;

  private record Run(String side, int seed, XYSeries train, XYSeries validation) {}

  public static void main(String[] args) throws IOException {
    Map<String, List<Run>> cases = new TreeMap<>();
    try (Stream<Path> files = Files.list(Path.of(args[0]))) {
      for (Path file : files.sorted().toList()) {
        Matcher m = NAME.matcher(file.getFileName().toString());
        if (m.matches()) {
          cases.computeIfAbsent(m.group(1), k -> new ArrayList<>())
              .add(read(file, m.group(2), Integer.parseInt(m.group(3))));
        }
      }
    }
    if (cases.isEmpty()) {
      System.err.println("LossCurves: no curve-<case>-<java|python>-s<seed>.jsonl in " + args[0]);
      System.exit(2);
    }
    BufferedImage image = new BufferedImage(WIDTH, PANEL * cases.size(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    int row = 0;
    for (Map.Entry<String, List<Run>> c : cases.entrySet()) {
      chart(c.getKey(), c.getValue()).draw(g, new Rectangle2D.Double(0, PANEL * row++, WIDTH, PANEL));
    }
    g.dispose();
    ImageIO.write(image, "png", Path.of(args[1]).toFile());
  }

  private static Run read(Path file, String side, int seed) throws IOException {
    String label = (side.equals("java") ? "Java" : "Python") + " seed " + seed;
    XYSeries train = new XYSeries(label + ", training (mean of " + WINDOW + " steps)");
    XYSeries validation = new XYSeries(label + ", held-out");
    double[] window = new double[WINDOW];
    int seen = 0;
    double sum = 0;
    for (String line : Files.readAllLines(file)) {
      Matcher step = STEP.matcher(line);
      Matcher loss = LOSS.matcher(line);
      if (!step.find() || !loss.find()) {
        continue;  // a line cut by a time limit
      }
      int at = Integer.parseInt(step.group(1));
      double value = Double.parseDouble(loss.group(1));
      sum += value - window[seen % WINDOW];
      window[seen++ % WINDOW] = value;
      if (seen >= WINDOW && at % 10 == 0) {
        train.add(at, sum / WINDOW);
      }
      Matcher val = VAL.matcher(line);
      if (val.find()) {
        validation.add(at, Double.parseDouble(val.group(1)));
      }
    }
    return new Run(side, seed, train, validation);
  }

  private static JFreeChart chart(String name, List<Run> runs) {
    XYSeriesCollection data = new XYSeriesCollection();
    XYLineAndShapeRenderer lines = new XYLineAndShapeRenderer();
    int index = 0;
    for (Run run : runs) {
      Color color = run.side().equals("java") ? new Color(0x1565c0) : new Color(0xef6c00);
      float[] dash = run.seed() == 1 ? null : new float[] {6f, 4f};
      data.addSeries(run.validation());
      lines.setSeriesPaint(index, color);
      lines.setSeriesStroke(index, stroke(2f, dash));
      lines.setSeriesShapesVisible(index, true);
      index++;
      data.addSeries(run.train());
      lines.setSeriesPaint(index, new Color(color.getRed(), color.getGreen(), color.getBlue(), 110));
      lines.setSeriesStroke(index, stroke(1f, dash));
      lines.setSeriesShapesVisible(index, false);
      index++;
    }
    JFreeChart chart = ChartFactory.createXYLineChart(name + ": loss on real text (held-out with dots)", "step",
        "cross-entropy loss (nats)", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    plot.setRenderer(lines);
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    // the first eighth of the steps, where the loss falls from ln(vocabulary), above the top: the rest is what differs
    double last = runs.stream().mapToDouble(r -> r.train().isEmpty() ? 0 : r.train().getMaxX()).max().orElse(0);
    double low = Double.MAX_VALUE;
    double high = -Double.MAX_VALUE;
    for (Run run : runs) {
      for (XYSeries series : List.of(run.validation(), run.train())) {
        for (int i = 0; i < series.getItemCount(); i++) {
          if (series.getX(i).doubleValue() >= last / 8) {
            low = Math.min(low, series.getY(i).doubleValue());
            high = Math.max(high, series.getY(i).doubleValue());
          }
        }
      }
    }
    NumberAxis range = (NumberAxis) plot.getRangeAxis();
    if (low < high) {
      range.setRange(low - 0.05 * (high - low), high + 0.1 * (high - low));
    } else {
      range.setAutoRangeIncludesZero(false);
    }
    return chart;
  }

  private static Stroke stroke(float width, float[] dash) {
    return dash == null ? new BasicStroke(width)
        : new BasicStroke(width, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, dash, 0f);
  }
}
