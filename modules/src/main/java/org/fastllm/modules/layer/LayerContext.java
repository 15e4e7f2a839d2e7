package org.fastllm.modules.layer;

import java.util.function.Supplier;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.ScanSegments;
import org.fastllm.modules.autograd.BackwardTape;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.kernel.KernelReport;

/**
 * What the layers of one model are built with: the model's {@link BackwardTape} (hand-written kernels attach their
 * backward to it), the kernel choices of {@code training.kernels}, and the report of what ran.
 *
 * <pre>{@code
 * // given ConfigDocument config, NormalizationConfig resolvedNorm
 * // given org.bytedeco.pytorch.Tensor kernelOutput, org.bytedeco.pytorch.Tensor x
 * // given UnaryOperator<org.bytedeco.pytorch.Tensor> dx
 * LayerContext context = LayerContext.of(config.training().kernels());   // one per model
 * Normalization norm = Normalization.of(resolvedNorm, 1024, context);
 * var y = context.tape().attach(kernelOutput, List.of(x),   // a plugin's kernel
 *     dy -> new org.bytedeco.pytorch.Tensor[] {dx.apply(dy)});
 * }</pre>
 *
 * <p><b>A context belongs to one model</b>: {@code StackBuilder} makes a fresh one for each model it builds, and
 * the model's forward clears the tape's leftovers. Two models built from one context would share a tape.
 */
public final class LayerContext {
  private final KernelsConfig kernels;
  private final KernelImplementations implementations;
  private final BackwardTape tape = new BackwardTape();
  private final KernelReport report = new KernelReport();

  private LayerContext(KernelsConfig kernels, KernelImplementations implementations) {
    this.kernels = kernels;
    this.implementations = implementations;
  }

  /** A context with the standard (CUDA) kernels, chosen as {@code resolved} (a resolved {@code training.kernels}). */
  public static LayerContext of(KernelsConfig resolved) {
    return of(resolved, KernelImplementations.STANDARD);
  }

  /** A context whose layers use {@code implementations} of the kernel contracts. */
  public static LayerContext of(KernelsConfig resolved, KernelImplementations implementations) {
    return new LayerContext(resolved, implementations);
  }

  /** A context with the standard kernels at their default choices ({@link KernelsConfig#DEFAULTS}). */
  public static LayerContext defaults() {
    return of(KernelsConfig.DEFAULTS.withDefaults());
  }

  /** A context with every kernel off: tensor operations throughout, as on a CPU. */
  public static LayerContext tensorOperations() {
    return of(new KernelsConfig(KernelChoice.OFF, KernelChoice.OFF, KernelChoice.OFF, KernelChoice.OFF,
        KernelChoice.OFF, KernelChoice.OFF, ScanSegments.AUTO));
  }

  /** The model's tape, for hand-written kernels' backward. */
  public BackwardTape tape() {
    return tape;
  }

  /** The resolved {@code training.kernels}. */
  public KernelsConfig kernels() {
    return kernels;
  }

  /** What ran for each kernel feature so far. */
  public KernelReport report() {
    return report;
  }

  /** The feature of {@code key} as chosen here, reporting to this context and attaching to its tape. */
  public KernelFeature feature(KernelKey key) {
    return new KernelFeature(key.key(), key.choice(kernels), report, tape);
  }

  /** The implementation of a kernel contract the layers use: the one given, or a new {@code standard} one. */
  public <K> K implementation(Class<K> contract, Supplier<? extends K> standard) {
    return implementations.of(contract, standard);
  }
}
