package org.fastllm.modules.kernel;

import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;

/**
 * The {@code training.kernels} keys of the kernels that layers run (the optimizer's, {@code adamw} and
 * {@code bf16_copies}, are the trainer's).
 *
 * <pre>{@code
 * // given KernelsConfig resolvedKernels
 * KernelChoice scan = KernelKey.SCAN.choice(resolvedKernels);
 * }</pre>
 */
public enum KernelKey {
  NORM("norm"), LOSS("loss"), SCAN("scan"), ROTARY("rotary");

  private final String key;

  KernelKey(String key) {
    this.key = key;
  }

  /** The key as written under {@code training.kernels}. */
  public String key() {
    return key;
  }

  /** This key's choice in a resolved {@code training.kernels}. */
  public KernelChoice choice(KernelsConfig resolved) {
    return switch (this) {
      case NORM -> resolved.norm();
      case LOSS -> resolved.loss();
      case SCAN -> resolved.scan();
      case ROTARY -> resolved.rotary();
    };
  }
}
