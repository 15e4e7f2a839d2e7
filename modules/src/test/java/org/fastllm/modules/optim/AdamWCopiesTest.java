package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
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

  /** The optimizer keeping a copy of {@code layer}'s weight, on the CPU too (the update's tensor operations). */
  private static AdamW copying(List<NamedParameter> parameters, Linear layer) {
    return AdamW.builder(AdamWTest.CONFIG).bf16Copies(KernelChoice.ON).build(parameters, List.of(layer));
  }

  /** A gradient bfloat16 holds exactly, as a product under autocast gives it. */
  private static Tensor gradient(long seed, long... shape) {
    Torch.seed(seed);
    return Torch.randn(torch.ScalarType.Float, shape).mul(new Scalar(0.3)).to(torch.ScalarType.BFloat16);
  }

  private static void assertCopyIsTheRoundedWeight(Linear l) {
    Tensor copy = l.copy();
    assertThat(copy.scalar_type().intern()).isEqualTo(torch.ScalarType.BFloat16);
    assertThat(copy.equal(l.weight().to(torch.ScalarType.BFloat16))).as("copy == bf16(weight)").isTrue();
  }

  @Test
  void step_withCopies_followsTheSameWeightsAsWithout_andKeepsTheCopiesRounded() {
    Linear withCopies = linear(7);
    Linear plain = linear(7);
    AdamW copying = copying(parameters(withCopies), withCopies);
    AdamW reference = AdamW.builder(AdamWTest.CONFIG).build(parameters(plain));
    assertThat(copying.copies()).isEqualTo(1);
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

      assertThat(normCopying)
          .as("clipping norm at step " + step)
          .isCloseTo(normReference, within(1e-6 * normReference));
      assertThat(Torch.relativeError(withCopies.weight(), plain.weight()) < 1e-6)
          .as("weights at step " + step)
          .isTrue();
      assertThat(Torch.relativeError(withCopies.bias(), plain.bias()) < 1e-6).as("biases at step " + step).isTrue();
      assertCopyIsTheRoundedWeight(withCopies);
      assertThat(withCopies.copy().grad().defined()).as("copy gradient cleared").isFalse();
    }
    assertThat(withCopies.weight().grad().defined()).as("the float32 weight itself never gets a gradient").isFalse();
  }

  @Test
  void zeroGradients_keptWithCopies_zeroesTheCopiesGradientsWhereTheyAre() {
    Linear l = linear(9);
    AdamW adam = copying(parameters(l), l);
    adam.keepGradients();
    l.copy().mutable_grad().put(gradient(300, 6, 10));
    l.bias().mutable_grad().put(gradient(301, 6).to(torch.ScalarType.Float));
    long address = l.copy().grad().data_ptr().address();
    adam.clipGradients(0.5);
    adam.step(0.01);
    adam.zeroGradients();

    assertThat(l.copy().grad().defined()).as("the copy's gradient is kept").isTrue();
    assertThat(l.copy().grad().data_ptr().address()).as("where it was").isEqualTo(address);
    assertThat(l.copy().grad().abs().sum().item_double()).isZero();
    assertThat(l.bias().grad().abs().sum().item_double()).isZero();
    assertCopyIsTheRoundedWeight(l);
  }

  @Test
  void weightsChanged_rewritesTheCopies() {
    Linear l = linear(8);
    AdamW adam = copying(parameters(l), l);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      l.weight().mul_(new Scalar(-3.0));
    }
    adam.weightsChanged();

    assertCopyIsTheRoundedWeight(l);
  }

  @Test
  void flatGradients_keepNoCopies() {
    Linear l = linear(9);
    AdamW adam = AdamW.builder(AdamWTest.CONFIG).flatGradients(true).bf16Copies(KernelChoice.AUTO)
        .build(parameters(l), List.of(l));

    assertThat(adam.copies()).isEqualTo(0);
    assertThat(l.copy()).isEqualTo(null);
  }

  @Test
  void backward_throughTheCopy_reachesTheOptimizer() {
    Linear l = linear(10);
    Linear plain = linear(10);
    AdamW copying = copying(parameters(l), l);
    AdamW reference = AdamW.builder(AdamWTest.CONFIG).build(parameters(plain));
    Tensor x = Torch.randn(torch.ScalarType.Float, 3, 10);
    // what the layer computes under CUDA autocast with a copy: the product with the bf16 copy
    torch.linear(x.to(torch.ScalarType.BFloat16), l.copy(), new org.bytedeco.pytorch.TensorOptional(l.bias().to(torch.ScalarType.BFloat16)))
        .to(torch.ScalarType.Float).sum().backward();
    torch.linear(x.to(torch.ScalarType.BFloat16), plain.weight().to(torch.ScalarType.BFloat16),
        new org.bytedeco.pytorch.TensorOptional(plain.bias().to(torch.ScalarType.BFloat16))).to(torch.ScalarType.Float).sum().backward();

    copying.step(0.01);
    reference.step(0.01);

    assertThat(Torch.relativeError(l.weight(), plain.weight()) < 1e-6)
        .as("the copy's gradient updated the weight")
        .isTrue();
    assertThat(l.weight().equal(linear(10).weight())).as("the weight moved").isFalse();
  }

  @Test
  void kernels_withCopies_countTheCopiedTensors() {
    Linear l = linear(11);

    assertThat(copying(parameters(l), l).kernels().get("bf16_copies")).isEqualTo("1 tensor");
  }

  @Test
  void build_autoOnACpuRun_keepsNoCopies_andSaysWhy() {
    Linear l = linear(12);
    AdamW adam = AdamW.builder(AdamWTest.CONFIG).bf16Copies(KernelChoice.AUTO, new CopyConditions(false, false, 1, 1))
        .build(parameters(l), List.of(l));

    assertThat(adam.copies()).isEqualTo(0);
    assertThat(l.copy()).isEqualTo(null);
    assertThat(adam.kernels().get("bf16_copies")).isEqualTo("off (the run is on the CPU)");
  }

  @Test
  void check_onForARunWithAccumulation_isRefusedBeforeAnyTensorIsMade() {
    AdamWBuilder builder = AdamW.builder(AdamWTest.CONFIG).bf16Copies(KernelChoice.ON,
        new CopyConditions(true, true, 1, 2));

    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class, builder::check);
    assertThat(e).as("expected IllegalArgumentException to be thrown").isNotNull();
    assertThat(e.getMessage())
        .isEqualTo("training.kernels.bf16_copies is on, but AdamW cannot keep bfloat16 weight copies: "
            + "training.gradient_accumulation is 2, and the copies' gradients would add up in bfloat16; set it to auto or "
            + "off");
  }
}
