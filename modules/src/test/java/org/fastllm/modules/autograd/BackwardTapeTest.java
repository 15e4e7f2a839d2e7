package org.fastllm.modules.autograd;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

class BackwardTapeTest {
  private final BackwardTape tape = new BackwardTape();

  /** {@code x * y} computed without autograd, with its hand-written backward on {@code tape}. */
  private static Tensor product(BackwardTape tape, Tensor x, Tensor y) {
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      out = x.mul(y);
    }
    return tape.attach(out, List.of(x, y), dz -> new Tensor[] {dz.mul(y.detach()), dz.mul(x.detach())});
  }

  private Tensor product(Tensor x, Tensor y) {
    return product(tape, x, y);
  }

  @Test
  void gradients_equalAutogradOfTheSameExpression_includingOtherUsesOfAnInput() {
    Torch.seed(3);
    Tensor x = Torch.randn(torch.ScalarType.Double, 5).set_requires_grad(true);
    Tensor y = Torch.randn(torch.ScalarType.Double, 5).set_requires_grad(true);
    Tensor x2 = x.detach().clone().set_requires_grad(true);
    Tensor y2 = y.detach().clone().set_requires_grad(true);
    // x also feeds a second term; its hook must add to that gradient, not replace it
    x.mul(y).mul(x).add(x.exp()).sum().backward();
    product(x2, y2).mul(x2).add(x2.exp()).sum().backward();
    assertThat(Torch.relativeError(x2.grad(), x.grad()) < 1e-12).as("x").isTrue();
    assertThat(Torch.relativeError(y2.grad(), y.grad()) < 1e-12).as("y").isTrue();
    assertThat(tape.pending()).isEqualTo(0);
  }

  /**
   * A parameter (a leaf) read by two calls of one forward and by an ordinary operation, over many steps: its
   * gradient stays autograd's, and no hook piles up on it (a hook left on a parameter by each call ran at every later
   * backward: the 30th step of a training run paid for 30).
   */
  @Test
  void leafAcrossManySteps_gradientsExact_andHooksDoNotPileUp() {
    Torch.seed(4);
    Tensor w = Torch.randn(torch.ScalarType.Double, 5).set_requires_grad(true);
    Tensor w2 = w.detach().clone().set_requires_grad(true);
    long[] callsPerStep = new long[20];
    for (int step = 0; step < callsPerStep.length; step++) {
      Tensor x = Torch.randn(torch.ScalarType.Double, 5);
      Tensor a = x.mul(new Scalar(2.0)).requires_grad_(true);
      Tensor a2 = a.detach().clone().set_requires_grad(true);
      Tensor first = a.mul(new Scalar(1.5));
      Tensor first2 = a2.mul(new Scalar(1.5));
      w.mul(first).add(w.mul(a).mul(w)).add(w.sin()).sum().backward();
      long before = tape.inputHookCalls();
      product(first2, w2).add(product(a2, w2).mul(w2)).add(w2.sin()).sum().backward();
      callsPerStep[step] = tape.inputHookCalls() - before;

      assertThat(Torch.relativeError(w2.grad(), w.grad()) < 1e-12).as("parameter gradient at step " + step).isTrue();
      assertThat(Torch.relativeError(a2.grad(), a.grad()) < 1e-12).as("activation gradient at step " + step).isTrue();
      assertThat(tape.pending()).isEqualTo(0);
      w.mutable_grad().put(new Tensor());
      w2.mutable_grad().put(new Tensor());
    }
    assertThat(callsPerStep[callsPerStep.length - 1])
        .as("hook calls in the first and last step")
        .isEqualTo(callsPerStep[0]);
  }

  /**
   * Two calls at the same input position where the first call's input is made from the second's (y = 3 a, then
   * f(y), then f(a)): y's gradient is complete before a's, so hooks on the inputs themselves would run in the
   * order of the calls, not the reverse, and hand each the other's gradient (same shapes, no error).
   */
  @Test
  void earlierCallsInputMadeFromALaterCallsInput_eachGetsItsOwnGradient() {
    Torch.seed(5);
    Tensor base = Torch.randn(torch.ScalarType.Double, 6);
    Tensor w = Torch.randn(torch.ScalarType.Double, 6);
    Tensor v = Torch.randn(torch.ScalarType.Double, 6);
    Tensor a = base.mul(new Scalar(1.0)).requires_grad_(true).mul(new Scalar(2.0));
    Tensor y = a.mul(new Scalar(3.0));
    a.retain_grad();
    y.mul(w).add(a.mul(v)).mul(a).sum().backward();
    Tensor a2 = base.mul(new Scalar(1.0)).requires_grad_(true).mul(new Scalar(2.0));
    a2.retain_grad();
    Tensor y2 = a2.mul(new Scalar(3.0));

    product(y2, w).add(product(a2, v)).mul(a2).sum().backward();

    assertThat(Torch.relativeError(a2.grad(), a.grad()) < 1e-12).as("gradient of a").isTrue();
    assertThat(tape.pending()).isEqualTo(0);
  }

  @Test
  void inputWithoutGradient_getsNone_andTheOtherStillDoes() {
    Tensor x = torch.ones(3).mul(new Scalar(2.0)).set_requires_grad(true);
    Tensor constant = torch.ones(3).mul(new Scalar(3.0));
    product(x, constant).sum().backward();
    assertThat(x.grad().select(0, 0).item_double()).isEqualTo(3.0);
    assertThat(constant.grad().defined()).isFalse();
  }

  @Test
  void forwardWithoutBackward_isForgotten_andLaterCallsStillPairCorrectly() {
    Tensor x = torch.ones(3).set_requires_grad(true);
    product(x, x.mul(new Scalar(5.0)));
    product(x, x);
    assertThat(tape.pending()).as("two forwards waiting").isEqualTo(2);
    tape.forgetPending();
    assertThat(tape.pending()).isEqualTo(0);
    Tensor y = torch.ones(3).mul(new Scalar(4.0)).set_requires_grad(true);
    product(y, torch.ones(3).mul(new Scalar(7.0))).sum().backward();
    assertThat(y.grad().select(0, 1).item_double()).isEqualTo(7.0);
  }

  /**
   * A tape may be made inside a training step's PointerScope (a model built in a step, a test's scope); its hooks
   * must outlive that scope, or the next step's autograd would call freed hooks.
   */
  @Test
  void hooksMadeInsideAStepsScope_stillWorkInTheNextStep() {
    BackwardTape[] made = new BackwardTape[1];
    for (int step = 0; step < 2; step++) {
      try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
        if (made[0] == null) {
          made[0] = new BackwardTape();
        }
        Tensor x = torch.ones(2).set_requires_grad(true);
        Tensor out;
        try (NoGradGuard noGrad = new NoGradGuard()) {
          out = x.mul(new Scalar(3.0));
        }
        made[0].attach(out, List.of(x), dy -> new Tensor[] {dy.mul(new Scalar(3.0))}).sum().backward();
        System.gc();   // a freed hook would show now, not by luck later
        assertThat(x.grad().select(0, 0).item_double()).as("step " + step).isEqualTo(3.0);
      }
    }
  }

  /**
   * Two tapes (two models) whose forwards and backwards interleave: each backward pairs with its own tape's calls.
   * One process-wide tape paired the second forward's calls with the first backward, or forgot the first forward's
   * calls when the second forward began.
   */
  @Test
  void twoTapes_interleavedForwardsAndBackwards_eachGetsItsOwnGradients() {
    BackwardTape other = new BackwardTape();
    Tensor x = torch.ones(3).mul(new Scalar(2.0)).set_requires_grad(true);
    Tensor y = torch.ones(3).mul(new Scalar(5.0)).set_requires_grad(true);
    Tensor first = product(x, torch.ones(3).mul(new Scalar(7.0)));
    other.forgetPending();   // the second model's forward starts
    Tensor second = product(other, y, torch.ones(3).mul(new Scalar(11.0)));

    first.sum().backward();
    second.sum().backward();

    assertThat(x.grad().select(0, 0).item_double()).as("first model").isEqualTo(7.0);
    assertThat(y.grad().select(0, 0).item_double()).as("second model").isEqualTo(11.0);
    assertThat(tape.pending()).isEqualTo(0);
    assertThat(other.pending()).isEqualTo(0);
  }

  /**
   * Each tape holds nine hooks for its model's life, and JavaCPP hands out at most ten native callbacks per
   * function-pointer class where C++ takes a plain function pointer: forty tapes alive at once (models of a test run,
   * of a sweep) must each still run their own hooks.
   */
  @Test
  void fortyTapesAlive_eachRunsItsOwnHooks() {
    List<BackwardTape> tapes = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      tapes.add(new BackwardTape());
    }
    for (int i = 0; i < tapes.size(); i++) {
      Tensor x = torch.ones(3).set_requires_grad(true);
      Tensor y = torch.ones(3).mul(new Scalar(i)).set_requires_grad(true);

      product(tapes.get(i), x, y).sum().backward();

      assertThat(x.grad().select(0, 0).item_double()).as("tape " + i).isEqualTo(Double.valueOf(i));
      assertThat(y.grad().select(0, 0).item_double()).as("tape " + i).isEqualTo(1.0);
    }
  }

  /** The link through each input's first element (the experiment flag sumLink=false) gives the same gradients. */
  @Test
  void firstElementLink_givesTheSameGradientsAsTheSumLink() {
    BackwardTape firstElement = new BackwardTape(false);
    Tensor x = torch.arange(new Scalar(4.0)).to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor x2 = x.detach().clone().set_requires_grad(true);
    Tensor w = torch.ones(4).to(torch.ScalarType.Double).mul(new Scalar(3.0));
    product(x, w).mul(x).sum().backward();
    product(firstElement, x2, w).mul(x2).sum().backward();

    assertThat(torch.equal(x.grad(), x2.grad())).as("d/dx of 3 x^2").isTrue();
    assertThat(firstElement.pending()).isEqualTo(0);
  }

  /**
   * The hooks' arguments are copies JavaCPP makes of autograd's gradients; kept until the garbage collector ran,
   * they held every hooked tensor's gradient (on the GPU: gigabytes per step). After a backward pass nothing but
   * the test's own handles may hold the gradients the hooks saw.
   */
  @Test
  void inputWithoutGradient_itsComputedGradientIsReleased() {
    Tensor[] computed = new Tensor[1];
    Tensor x = torch.ones(3).set_requires_grad(true);
    Tensor frozen = torch.ones(3).mul(new Scalar(3.0));
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      out = x.mul(frozen);
    }
    Tensor y = tape.attach(out, List.of(x, frozen), dz -> {
      Tensor dFrozen = dz.mul(x.detach());
      computed[0] = new Tensor(dFrozen);   // a second handle, the test's, beyond the hook's scope
      computed[0].retainReference();
      return new Tensor[] {dz.mul(frozen), dFrozen};
    });
    y.sum().backward();

    assertThat(x.grad().select(0, 0).item_double()).isEqualTo(3.0);
    assertThat(computed[0].use_count()).as("the tape keeps no handle on the frozen input's gradient").isEqualTo(1);
    computed[0].close();
  }

  @Test
  void backward_leavesNoHandleOnTheGradientsTheHooksSaw() {
    Tensor[] seen = new Tensor[1];
    Tensor x = torch.ones(4).set_requires_grad(true);
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      out = x.mul(new Scalar(2.0));
    }
    Tensor y = tape.attach(out, List.of(x), dy -> {
      seen[0] = new Tensor(dy);
      seen[0].retainReference();   // the test's handle, beyond the hook's scope
      return new Tensor[] {dy.mul(new Scalar(2.0))};
    });
    y.mul(torch.ones(4).mul(new Scalar(5.0))).sum().backward();

    assertThat(x.grad().select(0, 0).item_double()).isEqualTo(10.0);
    assertThat(seen[0].use_count()).as("only the test's handle is left on d loss / d output").isEqualTo(1);
    seen[0].close();
  }

  @Test
  void autogradOff_returnsTheOutputItself() {
    Tensor x = torch.ones(2).set_requires_grad(true);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      Tensor out = product(x, x);
      assertThat(out.requires_grad()).isFalse();
    }
    assertThat(tape.pending()).isEqualTo(0);
  }
}
