package org.fastllm.modules.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.stack.DecodeGraph;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;

/**
 * One batch of prompts decoded greedily, timed: with the decoding caches, or by a full forward over the growing
 * sequence for every new token; either way the output head runs at the last position only, as transformers'
 * {@code generate()} does. The generated ids stay on the device until the end, so no step waits for the host
 * except the first, whose end is the prefill time. Called without gradients, the model in eval mode.
 */
final class DecodeRun {
  /**
   * Milliseconds of the prefill and of the whole generation, the main thread's CPU milliseconds after the prefill
   * (the host's work, which other processes on the machine hardly change); the first generated ids of the first
   * sequence.
   */
  record Timing(double prefillMs, double totalMs, double decodeCpuMs, String firstTokens, String graph) {
    Timing(double prefillMs, double totalMs, double decodeCpuMs, String firstTokens) {
      this(prefillMs, totalMs, decodeCpuMs, firstTokens, null);
    }

    /** This timing, its steps having run as {@code how} says (replayed, or eagerly and why). */
    Timing graphed(String how) {
      return new Timing(prefillMs, totalMs, decodeCpuMs, firstTokens, how);
    }

    /** The main thread's CPU milliseconds per decoding step after the prefill. */
    double cpuMsPerStep(int newTokens) {
      return newTokens > 1 ? decodeCpuMs / (newTokens - 1) : 0;
    }

    double decodeTokensPerSecond(int batch, int newTokens) {
      return (double) newTokens * batch / ((totalMs - prefillMs) / 1e3);
    }

    double totalTokensPerSecond(int batch, int newTokens) {
      return (double) newTokens * batch / (totalMs / 1e3);
    }
  }

  private static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();
  private final LanguageModel model;
  private final Device device;
  private final long[][] prompt;

  DecodeRun(LanguageModel model, Device device, long[][] prompt) {
    this.model = model;
    this.device = device;
    this.prompt = prompt.clone();
  }

  /** {@code newTokens} ids after the prompt, from the layers' caches: one forward of one position per new id. */
  Timing cached(int newTokens) {
    return cached(newTokens, false);
  }

  /**
   * {@link #cached(int)}, where with {@code graph} the steps after the prefill go through a {@link DecodeGraph}: on a
   * GPU, replays of one recorded step. The timing's {@code graph} says what ran.
   */
  Timing cached(int newTokens, boolean graph) {
    try (PointerScope scope = new PointerScope(); Decoding decoding = model.startDecoding(prompt.length);
        DecodeGraph steps = new DecodeGraph(model, decoding, prompt[0].length + newTokens)) {
      Tensor made = made(newTokens);
      Tensor ids = promptTensor();
      ids.sum().item_long();  // on the device before the clock starts
      long start = System.nanoTime();
      double prefill = 0;
      long cpu = 0;
      for (int i = 0; i < newTokens; i++) {
        try (PointerScope step = new PointerScope()) {
          Tensor feed = i == 0 ? ids : made.narrow(1, i - 1, 1);
          Tensor logits = graph && i > 0 ? steps.nextLogits(feed) : model.decodeNextLogits(feed, decoding);
          made.narrow(1, i, 1).copy_(greedy(logits));
        }
        if (i == 0) {
          made.select(0, 0).select(0, 0).item_long();  // waits for the device
          prefill = (System.nanoTime() - start) / 1e6;
          cpu = CPU.getCurrentThreadCpuTime();
        }
      }
      Timing timing = finish(made, start, prefill, cpu);
      return !graph ? timing : timing.graphed(steps.replays() ? "replayed" : "eager: " + steps.eagerReason());
    }
  }

  /**
   * The largest difference between the logits of {@code newTokens} steps decoded eagerly and through a
   * {@link DecodeGraph}, both fed the eager run's greedy ids.
   */
  double graphDifference(int newTokens) {
    try (PointerScope scope = new PointerScope(); Decoding eager = model.startDecoding(prompt.length);
        Decoding fixed = model.startDecoding(prompt.length);
        DecodeGraph steps = new DecodeGraph(model, fixed, prompt[0].length + newTokens)) {
      Tensor feed = promptTensor();
      model.decodeNextLogits(feed, fixed);
      feed = greedy(model.decodeNextLogits(feed, eager));
      double most = 0;
      for (int i = 0; i < newTokens; i++) {
        try (PointerScope step = new PointerScope()) {
          Tensor expected = model.decodeNextLogits(feed, eager).to(torch.ScalarType.Float);
          Tensor actual = steps.nextLogits(feed).to(torch.ScalarType.Float);
          most = Math.max(most, expected.sub(actual).abs().max().item_double());
          Tensor next = greedy(expected);
          next.retainReference();
          step.detach(next);
          feed = next;
        }
      }
      return most;
    }
  }

  /** {@code newTokens} ids after the prompt, each from a forward over the whole sequence so far (no caches). */
  Timing recomputed(int newTokens) {
    try (PointerScope scope = new PointerScope(); KeptTensor sequence = new KeptTensor()) {
      Tensor made = made(newTokens);
      sequence.set(promptTensor());
      sequence.get().sum().item_long();
      long start = System.nanoTime();
      double prefill = 0;
      long cpu = 0;
      for (int i = 0; i < newTokens; i++) {
        try (PointerScope step = new PointerScope()) {
          Tensor next = greedy(model.nextLogits(sequence.get()));
          made.narrow(1, i, 1).copy_(next);
          sequence.set(torch.cat(new TensorVector(sequence.get(), next), 1));
        }
        if (i == 0) {
          made.select(0, 0).select(0, 0).item_long();
          prefill = (System.nanoTime() - start) / 1e6;
          cpu = CPU.getCurrentThreadCpuTime();
        }
      }
      return finish(made, start, prefill, cpu);
    }
  }

  private Timing finish(Tensor made, long start, double prefill, long cpuAfterPrefill) {
    Tensor host = made.cpu().contiguous();  // waits for the device
    double total = (System.nanoTime() - start) / 1e6;
    double cpu = (CPU.getCurrentThreadCpuTime() - cpuAfterPrefill) / 1e6;
    long[] first = new long[(int) Math.min(8, host.size(1))];
    new LongPointer(host.data_ptr()).capacity(first.length).get(first);
    return new Timing(prefill, total, cpu, Arrays.toString(first).replace(" ", ""));
  }

  private Tensor made(int newTokens) {
    return torch.zeros(new long[] {prompt.length, newTokens}, new TensorOptions(torch.ScalarType.Long))
        .to(device, torch.ScalarType.Long);
  }

  /** The prompts {@code [b, t]} on the device. */
  Tensor promptTensor() {
    long[] flat = Arrays.stream(prompt).flatMapToLong(Arrays::stream).toArray();
    Tensor cpu = torch.tensor(flat).reshape(prompt.length, prompt[0].length);
    return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Long);
  }

  /** The most likely next id of each sequence after its last position, {@code [b, 1]}. */
  static Tensor greedy(Tensor logits) {
    return logits.select(1, logits.size(1) - 1).argmax(new LongOptional(-1), true);
  }
}
