package org.fastllm.modules.optim;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.fastllm.dsl.config.KernelChoice;

/**
 * Which update paths an optimizer runs, from the run's choices ({@code training.kernels.adamw} and
 * {@code bf16_copies}) and what this process can run; {@code on} where the path cannot run is refused, naming the
 * key and the reason.
 *
 * <pre>{@code
 * // given CopyConditions cpuRun
 * UpdatePaths.choose(KernelChoice.AUTO, true, KernelChoice.AUTO, cpuRun, false).report(0)   // {adamw=fused, ...}
 * }</pre>
 *
 * @param noFusedKernel why the tensor operations run instead of the fused kernel; empty where it runs
 * @param noCopies why no bfloat16 copies are kept, where the reason is more than the choice {@code off}
 */
record UpdatePaths(boolean fused, Optional<String> noFusedKernel, boolean copies, Optional<String> noCopies) {
  static final String ADAMW = "adamw";
  static final String BF16_COPIES = "bf16_copies";
  private static final String KEYS = "training.kernels.";
  /** Why flat gradients leave the copies out, and when a run has them. */
  static final String FLAT = "the gradients are flat buffers: a data-parallel run, a training step replayed from a"
      + " CUDA graph for a model whose single-use linear weights hold under 2^28 parameters, or"
      + " -Dfastllm.flatGradients=true";

  /**
   * The paths for these choices: {@code fusedAvailable} says whether this libtorch has the kernel, {@code run}
   * (null: not checked, the caller vouches) what the copies need, and flat gradients rule the copies out.
   *
   * @throws IllegalArgumentException for a choice {@code on} whose path cannot run
   */
  static UpdatePaths choose(KernelChoice adamw, boolean fusedAvailable, KernelChoice bf16Copies, CopyConditions run,
      boolean flatGradients) {
    Optional<String> noFusedKernel = adamw == KernelChoice.OFF ? Optional.of("off")
        : fusedAvailable ? Optional.empty() : Optional.of("this libtorch has no aten::_fused_adamw_");
    if (adamw == KernelChoice.ON && noFusedKernel.isPresent()) {
      throw refused(ADAMW, "the fused AdamW kernel cannot run: " + noFusedKernel.get());
    }
    if (bf16Copies == KernelChoice.OFF) {
      return new UpdatePaths(noFusedKernel.isEmpty(), noFusedKernel, false, Optional.empty());
    }
    Optional<String> noCopies = run == null ? Optional.empty() : run.obstacle();
    if (noCopies.isEmpty() && flatGradients) {
      noCopies = Optional.of(FLAT);
    }
    if (bf16Copies == KernelChoice.ON && noCopies.isPresent()) {
      throw refused(BF16_COPIES, "AdamW cannot keep bfloat16 weight copies: " + noCopies.get());
    }
    return new UpdatePaths(noFusedKernel.isEmpty(), noFusedKernel, noCopies.isEmpty(), noCopies);
  }

  private static IllegalArgumentException refused(String key, String why) {
    return new IllegalArgumentException(KEYS + key + " is on, but " + why + "; set it to auto or off");
  }

  /** What runs, by kernel key in this order: {@code adamw} and {@code bf16_copies}, given the copies kept. */
  Map<String, String> report(int copyCount) {
    Map<String, String> report = new LinkedHashMap<>();
    report.put(ADAMW, fused ? "fused" : "tensor operations (" + noFusedKernel.orElseThrow() + ")");
    if (copies && copyCount > 0) {
      report.put(BF16_COPIES, copyCount + (copyCount == 1 ? " tensor" : " tensors"));
    } else if (copies) {
      report.put(BF16_COPIES, "off (no float32 single-use linear weight is optimized)");
    } else {
      report.put(BF16_COPIES, noCopies.map(reason -> "off (" + reason + ")").orElse("off"));
    }
    return Collections.unmodifiableMap(report);
  }
}
