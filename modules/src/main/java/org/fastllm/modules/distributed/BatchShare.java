package org.fastllm.modules.distributed;

import java.util.Optional;

/**
 * The one rule of a data-parallel batch: every process draws the same number of its sequences, so
 * {@code training.batch_size} must be a multiple of the number of processes (which also makes the mean of the
 * processes' mean losses the mean loss of the whole batch).
 *
 * <pre>{@code int rows = BatchShare.perProcess(8, 2);   // 4; perProcess(6, 4) throws, naming both numbers}</pre>
 */
public final class BatchShare {
  private BatchShare() {}

  /** Why {@code processes} processes cannot share a batch of {@code batchSize} sequences, or empty where they can. */
  public static Optional<String> problem(int batchSize, int processes) {
    if (batchSize % processes == 0) {
      return Optional.empty();
    }
    return Optional.of("training.batch_size is " + batchSize + ", which " + processes + " processes cannot share; "
        + "with data parallelism it must be a multiple of the number of processes");
  }

  /**
   * The sequences each process draws.
   *
   * @throws IllegalArgumentException with {@link #problem}'s message where the batch cannot be shared
   */
  public static int perProcess(int batchSize, int processes) {
    problem(batchSize, processes).ifPresent(message -> {
      throw new IllegalArgumentException(message);
    });
    return batchSize / processes;
  }
}
