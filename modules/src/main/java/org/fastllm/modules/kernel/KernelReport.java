package org.fastllm.modules.kernel;

import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What ran for each hand-written kernel feature of one model: {@code cuda kernel}, or {@code tensor operations} with
 * the reason, recorded when the feature is first used (and again where a later call took the other path, a shape
 * the kernel does not take, say).
 *
 * <pre>{@code
 * // given LanguageModel model
 * model.kernelReport()   // {loss=cuda kernel, norm=tensor operations (off in training.kernels)}
 * }</pre>
 */
public final class KernelReport {
  /** What a feature reports when its kernel ran. */
  public static final String KERNEL = "cuda kernel";
  /** A feature's distinct outcomes beyond which more are not recorded: reasons that name shapes could grow. */
  private static final int MOST_OUTCOMES = 4;

  private final Map<String, Set<String>> outcomes = new TreeMap<>();

  /** Records that {@code feature} took {@code outcome} ({@link #KERNEL} or a tensor-operations line). */
  public void record(String feature, String outcome) {
    synchronized (outcomes) {
      Set<String> known = outcomes.computeIfAbsent(feature, f -> new LinkedHashSet<>());
      if (known.size() < MOST_OUTCOMES) {
        known.add(outcome);
      }
    }
  }

  /** Each feature used so far, by name in order, with what ran for it (distinct outcomes joined by "; "). */
  public Map<String, String> snapshot() {
    synchronized (outcomes) {
      Map<String, String> report = new TreeMap<>();
      outcomes.forEach((feature, seen) -> report.put(feature, String.join("; ", seen)));
      return report;
    }
  }
}
