package org.fastllm.modules.train;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.data.Tokens;
import org.fastllm.modules.stack.LanguageModel;

/**
 * The mean cross-entropy of a model over a token sequence cut into non-overlapping windows of {@code length}
 * predicted tokens, {@code rows} windows a batch: the loss validation computes, over every window instead of a
 * sample. The model runs in eval mode without gradients and is back in its mode afterwards.
 *
 * <pre>{@code
 * // given LanguageModel model, Tokens tokens, Device device
 * WindowedLoss.Result r = WindowedLoss.over(model, tokens, 128, 8, 256, device);
 * double perplexity = Math.exp(r.loss());
 * }</pre>
 *
 * <p><b>Each window is weighted by its tokens, so a short last batch counts as much per token as a full one; tokens
 * after the last whole window are not scored.</b>
 */
public final class WindowedLoss {
  private WindowedLoss() {}

  /**
   * @param tokens the number of tokens scored (windows times length)
   * @param loss the mean cross-entropy per scored token, in nats
   * @param seconds the time the forward passes took
   */
  public record Result(long tokens, double loss, double seconds) {
    /** Scored tokens per second of forward passes. */
    public double tokensPerSecond() {
      return seconds > 0 ? tokens / seconds : Double.POSITIVE_INFINITY;
    }
  }

  /** The number of whole windows of {@code length} predicted tokens in {@code size} tokens. */
  public static long windows(long size, int length) {
    return size <= length ? 0 : (size - 1) / length;
  }

  /** Scores every whole window; refuses a sequence shorter than one window, or an id at or above {@code vocabSize}. */
  public static Result over(LanguageModel model, Tokens tokens, int length, int rows, int vocabSize, Device device) {
    long windows = windows(tokens.size(), length);
    if (windows == 0) {
      throw new IllegalArgumentException("only " + tokens.size() + " tokens, fewer than one window of " + (length + 1)
          + " (training.sequence_length " + length + " + 1)");
    }
    boolean training = model.is_training();
    model.eval();
    long start = System.nanoTime();
    double sum = 0;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (long first = 0; first < windows; first += rows) {
        int count = (int) Math.min(rows, windows - first);
        try (PointerScope scope = new PointerScope()) {
          Tensor[] batch = batch(tokens, first, count, length, vocabSize, device);
          sum += model.loss(batch[0], batch[1]).to(torch.ScalarType.Double).item_double() * count;
        }
      }
    } finally {
      model.train(training);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Result(windows * length, sum / windows, seconds);
  }

  private static Tensor[] batch(Tokens tokens, long first, int count, int length, int vocabSize, Device device) {
    long[] inputs = new long[count * length];
    long[] targets = new long[count * length];
    for (int r = 0; r < count; r++) {
      long offset = (first + r) * length;
      for (int t = 0; t <= length; t++) {
        int id = tokens.at(offset + t);
        if (id >= vocabSize) {
          throw new IllegalArgumentException("token id " + id + " at position " + (offset + t)
              + " of the data is outside the model's vocabulary (model.vocab_size " + vocabSize + ")");
        }
        if (t < length) {
          inputs[r * length + t] = id;
        }
        if (t > 0) {
          targets[r * length + t - 1] = id;
        }
      }
    }
    return new Tensor[] {tensor(inputs, count, length, device), tensor(targets, count, length, device)};
  }

  private static Tensor tensor(long[] values, int rows, int length, Device device) {
    try (LongPointer pointer = new LongPointer(values)) {
      Tensor cpu = torch.from_blob(pointer, new long[] {rows, length},
          new TensorOptions(torch.ScalarType.Long)).clone();
      return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Long);
    }
  }
}
