package org.fastllm.modules.loss;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * The fused cross-entropy's wiring (mean over kept rows, the backward scaled by the incoming gradient) through the
 * tensor twin of its kernels, against libtorch's cross_entropy in float64; and which path runs as
 * {@code training.kernels} says. The CUDA kernels themselves are checked against the same reference on the GPU
 * ({@code org.fastllm.modules.bench.KernelCheck}).
 */
class CrossEntropyTest {
  private static final TensorOptions F64 = new TensorOptions(torch.ScalarType.Double);

  private static Tensor targets(long... ids) {
    return torch.tensor(ids);
  }

  /** The loss of a model whose kernels are the tensor twin: its kernel path, on the CPU. */
  private static CrossEntropy twin() {
    return new CrossEntropy(LayerContext.of(KernelsConfig.DEFAULTS.withDefaults(),
        TensorCrossEntropyKernels.in(KernelImplementations.STANDARD)));
  }

  @Test
  void fused_matchesLibtorchLossAndGradient_withLeftOutRows() {
    Torch.seed(3);
    Tensor base = torch.randn(new long[] {6, 12}, F64).mul(new Scalar(3.0));
    Tensor ids = targets(4, 0, CrossEntropy.IGNORED, 11, 7, CrossEntropy.IGNORED);
    Tensor expectedLogits = base.clone().set_requires_grad(true);
    Tensor expected = torch.cross_entropy_loss(expectedLogits, ids);
    expected.mul(new Scalar(2.5)).backward();
    Tensor logits = base.clone().set_requires_grad(true);

    Tensor loss = twin().mean(logits, ids);
    loss.mul(new Scalar(2.5)).backward();

    assertThat(loss.item_double()).as("mean over the four kept rows").isCloseTo(expected.item_double(), within(1e-6));
    assertThat(Torch.relativeError(logits.grad(), expectedLogits.grad(), 1e-3) < 1e-6).as("gradient").isTrue();
    assertThat(logits.grad().select(0, 2).abs().sum().item_double())
        .as("a left-out row gets no gradient")
        .isCloseTo(0.0, within(0.0));
  }

  @Test
  void fused_bf16Logits_gradientInTheirTypeAndCloseToFloat64() {
    Torch.seed(4);
    Tensor base = torch.randn(new long[] {8, 16}, F64);
    Tensor ids = targets(1, 2, 3, 4, 5, 6, 7, 15);
    Tensor rounded = base.to(torch.ScalarType.BFloat16);
    Tensor exactLogits = rounded.to(torch.ScalarType.Double).set_requires_grad(true);
    torch.cross_entropy_loss(exactLogits, ids).backward();
    Tensor logits = rounded.clone().set_requires_grad(true);

    Tensor loss = twin().mean(logits, ids);
    loss.backward();

    assertThat(loss.scalar_type().intern()).as("a float32 loss, as under autocast").isEqualTo(torch.ScalarType.Float);
    assertThat(logits.grad().scalar_type().intern()).isEqualTo(torch.ScalarType.BFloat16);
    assertThat(Torch.relativeError(logits.grad(), exactLogits.grad(), 1e-3) < 1e-2)
        .as("gradient, bf16 rounding")
        .isTrue();
  }

  @Test
  void fused_everyRowLeftOut_isNaNAsInLibtorch() {
    Tensor logits = torch.randn(new long[] {2, 4}, F64);
    Tensor ids = targets(CrossEntropy.IGNORED, CrossEntropy.IGNORED);

    assertThat(Double.isNaN(twin().mean(logits, ids).item_double())).isTrue();
    assertThat(Double.isNaN(torch.cross_entropy_loss(logits, ids).item_double())).isTrue();
  }

  @Test
  void mean_onTheCpu_isLibtorchsLoss() {
    Torch.seed(5);
    Tensor logits = torch.randn(new long[] {5, 9}, F64);
    Tensor ids = targets(0, 8, 3, 3, 1);
    LayerContext context = LayerContext.defaults();

    assertThat(new CrossEntropy(context).mean(logits, ids).item_double())
        .isCloseTo(torch.cross_entropy_loss(logits, ids).item_double(), within(0.0));
    assertThat(context.report().snapshot())
        .isEqualTo(Map.of("loss", "tensor operations (the logits are not on a CUDA device (cpu))"));
  }

  @Test
  void mean_kernelsOff_isLibtorchsLossEvenWithKernelsThatWouldRun() {
    Tensor logits = torch.randn(new long[] {4, 8}, F64).set_requires_grad(true);
    KernelsConfig off = new KernelsConfig(null, KernelChoice.OFF, null, null, null, null, null).withDefaults();
    LayerContext context = LayerContext.of(off, TensorCrossEntropyKernels.in(KernelImplementations.STANDARD));

    new CrossEntropy(context).mean(logits, targets(1, 2, 3, 4)).backward();

    assertThat(context.tape().pending()).as("no kernel call waited for a backward").isEqualTo(0);
    assertThat(context.report().snapshot()).isEqualTo(Map.of("loss", "tensor operations (off in training.kernels)"));
  }

  /** The launches the CUDA kernels make, built from CPU tensors, match the kernels' parameters in the source. */
  @Test
  void cudaKernels_launches_matchTheKernelsParametersInTheSource() {
    Tensor logits = torch.zeros(new long[] {3, 16}).to(torch.ScalarType.BFloat16);
    Tensor ids = targets(1, 2, 3);
    Tensor rows = torch.zeros(3);
    RuntimeKernels.check(CudaCrossEntropyKernels.SOURCE,
        CudaCrossEntropyKernels.forwardLaunch(logits, ids, rows, rows));
    RuntimeKernels.check(CudaCrossEntropyKernels.SOURCE,
        CudaCrossEntropyKernels.backwardLaunch(logits, ids, rows, torch.ones(1), logits));
  }
}
