package org.fastllm.modules.bench;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.yaml.ConfigOverrides;
import org.fastllm.modules.cuda.CudaGraph;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.optim.CopyConditions;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.modules.train.Autocast;
import org.fastllm.validation.load.ConfigLoader;

/**
 * Benchmark, not a test, of one lever: a training step's forward and backward recorded once as a CUDA graph and
 * replayed, against the same step launched eagerly, in one process on one GPU. Each then clips and applies AdamW
 * eagerly with the optimizer paths {@code train} takes on one GPU (fused kernel; bf16 copies of the linear weights
 * where the gradients allow them); bf16 autocast; random tokens; the loss read on the host every step, as
 * {@code train} does. Three ways: eager with autograd's gradients dropped after each step (as {@code train} ran
 * before graphs); replayed into flat gradients, zeroed in place (no bf16 copies; {@code train}'s default); replayed
 * into autograd's gradients kept and zeroed in place, bf16 copies on ({@code -Dfastllm.graphKeepsGradients=true}).
 *
 * <pre class="text">{@code
 * java ... org.fastllm.modules.bench.StepGraphBench bench/gpu/gpt2-small.yaml [steps 30] [key.path=value ...]
 * }</pre>
 *
 * <p>Settings after the steps override the config as they do after {@code train}, e.g.
 * {@code training.kernels.norm=on}.
 *
 * <p>Prints the milliseconds per step of each (median of the steps after 5 of warm-up), its ratio to eager, and the
 * losses of the first steps of each from the same weights and tokens, which agree when the graph computes the
 * step. A model with dropout replays one dropout mask: the graph does not register the random generator.
 */
public final class StepGraphBench {
  private StepGraphBench() {}

  public static void main(String[] args) throws Exception {
    Path file = Path.of(args[0]);
    int steps = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    ConfigDocument resolved = ConfigLoader.standard()
        .load(file, ConfigOverrides.parse(List.of(args).subList(Math.min(2, args.length), args.length))).resolved();
    TrainingConfig training = resolved.training().withDefaults();
    Device device = new Device("cuda");
    long batch = training.batchSize();
    long time = training.sequenceLength();
    try (PointerScope scope = new PointerScope()) {
      Tensor tokens = torch.randint(resolved.model().withDefaults().config().vocabSize(), new long[] {batch, time + 1},
          new TensorOptions(torch.ScalarType.Long)).to(device, torch.ScalarType.Long);
      Tensor inputs = tokens.narrow(1, 0, time).contiguous();
      Tensor targets = tokens.narrow(1, 1, time).contiguous();
      System.out.printf(Locale.ROOT, "# %s%s, batch %d x %d tokens, %d steps each%n", file.getFileName(),
          args.length > 2 ? " " + String.join(" ", List.of(args).subList(2, args.length)) : "", batch, time, steps);
      double eagerMs = 0;
      for (Mode mode : Mode.values()) {
        double[] out = run(resolved, training, device, inputs, targets, steps, mode);
        double ms = median(out);
        eagerMs = mode == Mode.EAGER ? ms : eagerMs;
        System.out.printf(Locale.ROOT, "step %-38s %6.2f ms, %,9.0f tokens/s, %.3fx eager; losses %s%n", mode.label,
            ms, batch * time / (ms / 1e3), eagerMs / ms, losses(out));
      }
    }
  }

  /** How a step runs: eagerly as {@code train} did before graphs, or replayed with either kind of gradients. */
  private enum Mode {
    EAGER("eager", false, false, false),
    GRAPH_FLAT("graph, flat gradients (train's default)", true, true, false),
    GRAPH_KEPT("graph, kept gradients and bf16 copies", true, false, true);

    final String label;
    final boolean graphed;
    final boolean flat;
    final boolean kept;

    Mode(String label, boolean graphed, boolean flat, boolean kept) {
      this.label = label;
      this.graphed = graphed;
      this.flat = flat;
      this.kept = kept;
    }
  }

  /** Per step: [milliseconds..., then the losses]: {@code steps} timings followed by {@code steps} losses. */
  private static double[] run(ConfigDocument resolved, TrainingConfig training, Device device, Tensor inputs,
      Tensor targets, int steps, Mode mode) {
    torch.manual_seed(training.seed());
    LanguageModel model = StackBuilder.installed().build(resolved.model().withDefaults(), training.kernels());
    model.to(device, false);
    model.train(true);
    AdamW optimizer = AdamW.builder(resolved.optimizer()).fusedKernel(training.kernels().adamw())
        .flatGradients(mode.flat).bf16Copies(training.kernels().bf16Copies(), new CopyConditions(true, true, 1, 1))
        .check().build(model.uniqueParameters(), model.singleUseLinears());
    if (mode.kept) {
      optimizer.keepGradients();
    }
    double clip = resolved.optimizer().gradClip();
    double lr = resolved.optimizer().learningRate();
    double[] out = new double[2 * steps];
    KeptTensor loss = new KeptTensor();
    CudaGraph graph = null;
    try {
      for (int step = 0; step < steps; step++) {
        long start = System.nanoTime();
        try (PointerScope stepScope = new PointerScope()) {
          optimizer.zeroGradients();
          if (mode.graphed && step == 2) {   // two eager steps first: kernels compiled, libraries and buffers ready
            graph = CudaGraph.capture(inputs.device().index(), () -> forwardBackward(model, inputs, targets, device, loss));
          }
          if (graph != null) {
            graph.replay();
          } else {
            forwardBackward(model, inputs, targets, device, loss);
          }
          optimizer.clipGradients(clip);
          optimizer.step(lr);
          out[steps + step] = loss.get().item_double();   // waits for the device, as train's step does
        }
        out[step] = (System.nanoTime() - start) / 1e6;
      }
    } finally {
      loss.close();
      if (graph != null) {
        graph.close();
      }
    }
    return out;
  }

  private static void forwardBackward(LanguageModel model, Tensor inputs, Tensor targets, Device device,
      KeptTensor loss) {
    Tensor value;
    try (Autocast autocast = Autocast.bf16(device, true)) {
      value = model.loss(inputs, targets);
    }
    value.backward();
    loss.set(value.detach());
  }

  private static double median(double[] out) {
    int steps = out.length / 2;
    double[] timed = Arrays.copyOfRange(out, Math.min(5, steps - 1), steps);
    Arrays.sort(timed);
    return timed[timed.length / 2];
  }

  private static String losses(double[] out) {
    int steps = out.length / 2;
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < Math.min(6, steps); i++) {
      s.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", out[steps + i]));
    }
    return s.toString();
  }
}
