package org.fastllm.modules.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    assertEquals(expected.item_double(), loss.item_double(), 1e-6, "mean over the four kept rows");
    assertTrue(Torch.relativeError(logits.grad(), expectedLogits.grad(), 1e-3) < 1e-6, "gradient");
    assertEquals(0.0, logits.grad().select(0, 2).abs().sum().item_double(), 0, "a left-out row gets no gradient");
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

    assertEquals(torch.ScalarType.Float, loss.scalar_type().intern(), "a float32 loss, as under autocast");
    assertEquals(torch.ScalarType.BFloat16, logits.grad().scalar_type().intern());
    assertTrue(Torch.relativeError(logits.grad(), exactLogits.grad(), 1e-3) < 1e-2, "gradient, bf16 rounding");
  }

  @Test
  void fused_everyRowLeftOut_isNaNAsInLibtorch() {
    Tensor logits = torch.randn(new long[] {2, 4}, F64);
    Tensor ids = targets(CrossEntropy.IGNORED, CrossEntropy.IGNORED);

    assertTrue(Double.isNaN(twin().mean(logits, ids).item_double()));
    assertTrue(Double.isNaN(torch.cross_entropy_loss(logits, ids).item_double()));
  }

  @Test
  void mean_onTheCpu_isLibtorchsLoss() {
    Torch.seed(5);
    Tensor logits = torch.randn(new long[] {5, 9}, F64);
    Tensor ids = targets(0, 8, 3, 3, 1);
    LayerContext context = LayerContext.defaults();

    assertEquals(torch.cross_entropy_loss(logits, ids).item_double(),
        new CrossEntropy(context).mean(logits, ids).item_double(), 0);
    assertEquals(Map.of("loss", "tensor operations (the logits are not on a CUDA device (cpu))"),
        context.report().snapshot());
  }

  @Test
  void mean_kernelsOff_isLibtorchsLossEvenWithKernelsThatWouldRun() {
    Tensor logits = torch.randn(new long[] {4, 8}, F64).set_requires_grad(true);
    KernelsConfig off = new KernelsConfig(null, KernelChoice.OFF, null, null, null, null, null).withDefaults();
    LayerContext context = LayerContext.of(off, TensorCrossEntropyKernels.in(KernelImplementations.STANDARD));

    new CrossEntropy(context).mean(logits, targets(1, 2, 3, 4)).backward();

    assertEquals(0, context.tape().pending(), "no kernel call waited for a backward");
    assertEquals(Map.of("loss", "tensor operations (off in training.kernels)"), context.report().snapshot());
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
