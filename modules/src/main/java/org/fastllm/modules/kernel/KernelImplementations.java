package org.fastllm.modules.kernel;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Which implementation of each kernel contract a model's layers use: the CUDA one unless another is given, as the
 * tests give the CPU twins ({@code JavaScanKernels}, {@code TensorNormKernels}) to run a whole model's kernel paths
 * on a machine without a GPU.
 *
 * <pre>{@code
 * // given Class<Runnable> contract, Runnable cpuTwin, ModelConfig resolved
 * KernelImplementations twins = KernelImplementations.STANDARD.with(contract, cpuTwin);  // e.g. ScanKernels
 * LanguageModel model = StackBuilder.installed().withKernels(twins).build(resolved);
 * }</pre>
 */
public final class KernelImplementations {
  /** Every contract's standard (CUDA) implementation. */
  public static final KernelImplementations STANDARD = new KernelImplementations(Map.of());

  private final Map<Class<?>, Object> given;

  private KernelImplementations(Map<Class<?>, Object> given) {
    this.given = Map.copyOf(given);
  }

  /** These implementations, with {@code implementation} for {@code contract}. */
  public <K> KernelImplementations with(Class<K> contract, K implementation) {
    Map<Class<?>, Object> more = new HashMap<>(given);
    more.put(contract, contract.cast(implementation));
    return new KernelImplementations(more);
  }

  /** The implementation given for {@code contract}, or a new standard one. */
  public <K> K of(Class<K> contract, Supplier<? extends K> standard) {
    Object implementation = given.get(contract);
    return implementation != null ? contract.cast(implementation) : standard.get();
  }
}
