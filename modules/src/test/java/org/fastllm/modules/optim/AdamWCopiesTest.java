package org.fastllm.modules.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * AdamW keeping bfloat16 copies of linear layers' weights: the same trajectory as without copies when the copies'
 * gradients equal autocast's (the bfloat16 gradient cast to float32), the copies always the weights rounded, the
 * clipping norm taken over the copies' gradients. The CUDA kernel of the update is checked against the tensor
 * operations here on the GPU ({@code org.fastllm.modules.bench.KernelCheck}).
 */
class AdamWCopiesTest {

  private static Linear linear(long seed) {
    Torch.seed(seed);
    return Linear.kaiming("layer", 6, 10, true);
  }

  private static List<NamedParameter> parameters(Linear l) {
    return List.of(new NamedParameter("layer.weight", l.weight(), true, 1.0),
        new NamedParameter("layer.bias", l.bias(), false, 1.0));
  }

  /** A gradient bfloat16 holds exactly, as a product under autocast gives it. */
  private static Tensor gradient(long seed, long... shape) {
    Torch.seed(seed);
    return Torch.randn(torch.ScalarType.Float, shape).mul(new Scalar(0.3)).to(torch.ScalarType.BFloat16);
  }

  private static void assertCopyIsTheRoundedWeight(Linear l) {
    Tensor copy = l.copy();
    assertEquals(torch.ScalarType.BFloat16, copy.scalar_type().intern());
    assertTrue(copy.equal(l.weight().to(torch.ScalarType.BFloat16)), "copy == bf16(weight)");
  }

  @Test
  void step_withCopies_followsTheSameWeightsAsWithout_andKeepsTheCopiesRounded() {
    Linear withCopies = linear(7);
    Linear plain = linear(7);
    AdamW copying = new AdamW(parameters(withCopies), AdamWTest.CONFIG, false, List.of(withCopies));
    AdamW reference = new AdamW(parameters(plain), AdamWTest.CONFIG, false);
    assertEquals(1, copying.copies());
    assertCopyIsTheRoundedWeight(withCopies);
    for (int step = 1; step <= 6; step++) {
      Tensor g = gradient(100 + step, 6, 10);
      Tensor gb = gradient(200 + step, 6);
      withCopies.copy().mutable_grad().put(g.clone());
      withCopies.bias().mutable_grad().put(gb.to(torch.ScalarType.Float));
      plain.weight().mutable_grad().put(g.to(torch.ScalarType.Float));
      plain.bias().mutable_grad().put(gb.to(torch.ScalarType.Float));

      double normCopying = copying.clipGradients(0.5).item_double();
      double normReference = reference.clipGradients(0.5).item_double();
      copying.step(0.01);
      reference.step(0.01);
      copying.zeroGradients();
      reference.zeroGradients();

      assertEquals(normReference, normCopying, 1e-6 * normReference, "clipping norm at step " + step);
      assertTrue(Torch.relativeError(withCopies.weight(), plain.weight()) < 1e-6, "weights at step " + step);
      assertTrue(Torch.relativeError(withCopies.bias(), plain.bias()) < 1e-6, "biases at step " + step);
      assertCopyIsTheRoundedWeight(withCopies);
      assertFalse(withCopies.copy().grad().defined(), "copy gradient cleared");
    }
    assertFalse(withCopies.weight().grad().defined(), "the float32 weight itself never gets a gradient");
  }

  @Test
  void weightsChanged_rewritesTheCopies() {
    Linear l = linear(8);
    AdamW adam = new AdamW(parameters(l), AdamWTest.CONFIG, false, List.of(l));
    try (NoGradGuard noGrad = new NoGradGuard()) {
      l.weight().mul_(new Scalar(-3.0));
    }
    adam.weightsChanged();

    assertCopyIsTheRoundedWeight(l);
  }

  @Test
  void flatGradients_keepNoCopies() {
    Linear l = linear(9);
    AdamW adam = new AdamW(parameters(l), AdamWTest.CONFIG, true, List.of(l));

    assertEquals(0, adam.copies());
    assertEquals(null, l.copy());
  }

  @Test
  void backward_throughTheCopy_reachesTheOptimizer() {
    Linear l = linear(10);
    Linear plain = linear(10);
    AdamW copying = new AdamW(parameters(l), AdamWTest.CONFIG, false, List.of(l));
    AdamW reference = new AdamW(parameters(plain), AdamWTest.CONFIG, false);
    Tensor x = Torch.randn(torch.ScalarType.Float, 3, 10);
    // what the layer computes under CUDA autocast with a copy: the product with the bf16 copy
    torch.linear(x.to(torch.ScalarType.BFloat16), l.copy(), new org.bytedeco.pytorch.TensorOptional(l.bias().to(torch.ScalarType.BFloat16)))
        .to(torch.ScalarType.Float).sum().backward();
    torch.linear(x.to(torch.ScalarType.BFloat16), plain.weight().to(torch.ScalarType.BFloat16),
        new org.bytedeco.pytorch.TensorOptional(plain.bias().to(torch.ScalarType.BFloat16))).to(torch.ScalarType.Float).sum().backward();

    copying.step(0.01);
    reference.step(0.01);

    assertTrue(Torch.relativeError(l.weight(), plain.weight()) < 1e-6, "the copy's gradient updated the weight");
    assertFalse(l.weight().equal(linear(10).weight()), "the weight moved");
  }
}
