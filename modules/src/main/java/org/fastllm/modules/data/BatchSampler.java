package org.fastllm.modules.data;

import org.fastllm.modules.distributed.BatchShare;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Random windows of a token sequence, chosen by a pure function of (seed, batch index, row), so a run that
 * resumes at batch {@code n} sees exactly the batches an uninterrupted run would: the data position is one number.
 *
 * <pre>{@code
 * // given Tokens train, Device device
 * BatchSampler.Batch b = new BatchSampler(train, 8, 128, 1234, 256).batch(0, device);  // inputs, targets [8, 128]
 * }</pre>
 */
public final class BatchSampler {
  private final Tokens tokens;
  private final int rows;
  private final int length;
  private final long seed;
  private final int vocabSize;
  private final int firstRow;

  /** One micro-batch: {@code inputs} and the next tokens {@code targets}, both {@code [rows, length]} longs. */
  public record Batch(Tensor inputs, Tensor targets) {}

  /** Ids at or above {@code vocabSize} are refused as they are drawn. */
  public BatchSampler(Tokens tokens, int rows, int length, long seed, int vocabSize) {
    this(tokens, rows, length, seed, vocabSize, 0);
  }

  private BatchSampler(Tokens tokens, int rows, int length, long seed, int vocabSize, int firstRow) {
    if (tokens.size() < length + 1L) {
      throw new IllegalArgumentException("only " + tokens.size() + " tokens, fewer than one sequence of "
          + (length + 1) + " (sequence_length + 1)");
    }
    this.tokens = tokens;
    this.rows = rows;
    this.length = length;
    this.seed = seed;
    this.vocabSize = vocabSize;
    this.firstRow = firstRow;
  }

  /**
   * The rows of each batch that process {@code rank} of {@code worldSize} draws: the {@code rows / worldSize} rows
   * from {@code rank * rows / worldSize} on, so the shards of all ranks together are exactly this sampler's batch.
   */
  public BatchSampler shard(int rank, int worldSize) {
    int each = BatchShare.perProcess(rows, worldSize);
    return new BatchSampler(tokens, each, length, seed, vocabSize, firstRow + rank * each);
  }

  /** The micro-batch at {@code index}, built on the CPU and moved to {@code device}. */
  public Batch batch(long index, Device device) {
    long[] inputs = new long[rows * length];
    long[] targets = new long[rows * length];
    long windows = tokens.size() - length;
    for (int r = 0; r < rows; r++) {
      long start = Long.remainderUnsigned(mix(seed, index, firstRow + r), windows);
      for (int t = 0; t <= length; t++) {
        int id = tokens.at(start + t);
        if (id >= vocabSize) {
          throw new IllegalArgumentException("token id " + id + " at position " + (start + t)
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
    return new Batch(tensor(inputs, device), tensor(targets, device));
  }

  public long tokensPerBatch() {
    return (long) rows * length;
  }

  private Tensor tensor(long[] values, Device device) {
    try (LongPointer pointer = new LongPointer(values)) {
      Tensor cpu = torch.from_blob(pointer, new long[] {rows, length},
          new TensorOptions(torch.ScalarType.Long)).clone();
      return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Long);
    }
  }

  /** SplitMix64 over the three numbers: cheap, well spread, and the same on every JVM. */
  static long mix(long seed, long index, long row) {
    long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + row * 0x94D049BB133111EBL;
    for (int i = 0; i < 2; i++) {
      z += 0x9E3779B97F4A7C15L;
      z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
      z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
      z ^= z >>> 31;
    }
    return z;
  }
}
