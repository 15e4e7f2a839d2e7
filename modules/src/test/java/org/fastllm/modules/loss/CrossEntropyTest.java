package org.fastllm.modules.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * The fused cross-entropy's wiring (mean over kept rows, the backward scaled by the incoming gradient) through the
 * tensor twin of its kernels, against libtorch's cross_entropy in float64. The CUDA kernels themselves are checked
 * against the same reference on the GPU ({@code org.fastllm.modules.bench.KernelCheck}).
 */
class CrossEntropyTest {
  private static final TensorOptions F64 = new TensorOptions(torch.ScalarType.Double);

  private static Tensor targets(long... ids) {
    return torch.tensor(ids);
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

    Tensor loss = CrossEntropy.fused(new TensorCrossEntropyKernels(), logits, ids);
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

    Tensor loss = CrossEntropy.fused(new TensorCrossEntropyKernels(), logits, ids);
    loss.backward();

    assertEquals(torch.ScalarType.Float, loss.scalar_type().intern(), "a float32 loss, as under autocast");
    assertEquals(torch.ScalarType.BFloat16, logits.grad().scalar_type().intern());
    assertTrue(Torch.relativeError(logits.grad(), exactLogits.grad(), 1e-3) < 1e-2, "gradient, bf16 rounding");
  }

  @Test
  void fused_everyRowLeftOut_isNaNAsInLibtorch() {
    Tensor logits = torch.randn(new long[] {2, 4}, F64);
    Tensor ids = targets(CrossEntropy.IGNORED, CrossEntropy.IGNORED);

    assertTrue(Double.isNaN(CrossEntropy.fused(new TensorCrossEntropyKernels(), logits, ids).item_double()));
    assertTrue(Double.isNaN(torch.cross_entropy_loss(logits, ids).item_double()));
  }

  @Test
  void mean_onTheCpu_isLibtorchsLoss() {
    Torch.seed(5);
    Tensor logits = torch.randn(new long[] {5, 9}, F64);
    Tensor ids = targets(0, 8, 3, 3, 1);

    assertEquals(torch.cross_entropy_loss(logits, ids).item_double(), CrossEntropy.mean(logits, ids).item_double(),
        0);
  }
}
