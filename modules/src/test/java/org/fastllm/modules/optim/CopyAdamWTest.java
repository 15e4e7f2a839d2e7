package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * The bf16-copy update's kernel path (the numbers handed to the kernel: bias corrections, decay, the gradient's
 * scale) through the loop twin of the kernel, against the same update in tensor operations; the CUDA kernel is
 * checked against the tensor operations on the GPU ({@code CopyAdamWCheck}).
 */
class CopyAdamWTest {

  private static CopyAdamW update(KernelChoice choice) {
    return new CopyAdamW(new JavaAdamWCopyKernels(),
        new KernelFeature("bf16_copies", choice, new KernelReport(), null));
  }

  /** weight, exp_avg, exp_avg_sq, grad (bf16), copy (bf16), grad scale: the same values for both paths. */
  private static Tensor[] state() {
    Torch.seed(21);
    long n = 1001;
    return new Tensor[] {Torch.randn(torch.ScalarType.Float, n),
        Torch.randn(torch.ScalarType.Float, n).mul(new Scalar(0.01)),
        torch.rand(new long[] {n}).mul(new Scalar(1e-3)),
        Torch.randn(torch.ScalarType.Float, n).to(torch.ScalarType.BFloat16),
        torch.zeros(new long[] {n}).to(torch.ScalarType.BFloat16), torch.full(new long[] {}, new Scalar(1.7))};
  }

  @Test
  void kernelPath_followsTheTensorOperations_andKeepsTheCopyRounded() {
    Tensor[] kernel = state();
    Tensor[] tensors = state();
    for (long step = 1; step <= 3; step++) {
      update(KernelChoice.AUTO).update(kernel[0], kernel[1], kernel[2], kernel[3], kernel[4], kernel[5], 1e-3, 0.1,
          0.9, 0.95, 1e-8, step);
      update(KernelChoice.OFF).update(tensors[0], tensors[1], tensors[2], tensors[3], tensors[4], tensors[5], 1e-3,
          0.1, 0.9, 0.95, 1e-8, step);
    }
    assertThat(Torch.relativeError(kernel[0], tensors[0]) < 1e-6).as("weights").isTrue();
    assertThat(Torch.relativeError(kernel[1], tensors[1]) < 1e-6).as("first moments").isTrue();
    assertThat(Torch.relativeError(kernel[2], tensors[2]) < 1e-6).as("second moments").isTrue();
    assertThat(kernel[4].equal(kernel[0].to(torch.ScalarType.BFloat16))).as("copy == bf16(weight)").isTrue();
    assertThat(!kernel[0].equal(state()[0])).as("the weight moved").isTrue();
  }

  /** The launch the CUDA kernel makes, built from CPU tensors, matches adamw.cu's parameters. */
  @Test
  void cudaKernel_launch_matchesTheKernelsParametersInTheSource() {
    Tensor[] t = state();
    RuntimeKernels.check(CudaAdamWCopyKernels.SOURCE, CudaAdamWCopyKernels.launch(t[0], t[1], t[2], t[3], t[4], t[5],
        AdamWCopyKernels.Step.of(1e-3, 0.1, 0.9, 0.95, 1e-8, 1)));
  }
}
