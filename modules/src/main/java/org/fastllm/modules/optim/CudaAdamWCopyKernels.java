package org.fastllm.modules.optim;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.cuda.KernelLaunch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;

/**
 * The update kernel of {@code adamw.cu}, compiled at first use per device: a grid-stride loop of at most
 * {@value #MAX_BLOCKS} blocks of {@value #THREADS} threads.
 *
 * <pre>{@code
 * // given Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor scale
 * // given AdamWCopyKernels.Step step
 * new CudaAdamWCopyKernels().step(weight, expAvg, expAvgSq, grad, copy, scale, step);
 * }</pre>
 */
final class CudaAdamWCopyKernels implements AdamWCopyKernels {
  static final String SOURCE = "org/fastllm/modules/optim/adamw.cu";
  private static final int THREADS = 256;
  private static final long MAX_BLOCKS = 4096;

  @Override
  public String unavailable(Tensor weight) {
    String why = KernelFeature.notOnCuda("the weight is", weight);
    if (why == null) {
      why = RuntimeKernels.availability();
    }
    if (why != null) {
      return why;
    }
    int device = weight.device().index();
    return RuntimeKernels.tryCompile(SOURCE, device, Map.of()).isPresent() ? null
        : "adamw.cu did not compile: " + RuntimeKernels.failure(SOURCE, device, Map.of());
  }

  @Override
  public void step(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy, Tensor gradScale,
      Step step) {
    RuntimeKernels.compile(SOURCE, weight.device().index(), Map.of())
        .launch(launch(weight, expAvg, expAvgSq, grad, copy, gradScale, step));
  }

  static KernelLaunch launch(Tensor weight, Tensor expAvg, Tensor expAvgSq, Tensor grad, Tensor copy,
      Tensor gradScale, Step step) {
    long n = weight.numel();
    long blocks = Math.min(MAX_BLOCKS, (n + THREADS - 1) / THREADS);
    return KernelLaunch.of("adamw_bf16_copy", RuntimeKernels.grid(blocks, 1), THREADS, weight, expAvg, expAvgSq,
        grad, copy, gradScale, n, step.lrDecay(), step.beta1(), step.beta2(), step.stepSize(),
        step.sqrtCorrection2(), step.epsilon());
  }
}
