package org.fastllm.modules.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.LrSchedule;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class AdamWTest {
  static final OptimizerConfig CONFIG = new OptimizerConfig(0.1, 0.0, 0, LrSchedule.CONSTANT, 0.1, 0.9, 0.95, 1e-8,
      0.0);
  static final double[] START = {1.0, -2.0};
  static final double[][] GRADS = {{0.5, -2.0}, {1.0, 0.25}};

  static Tensor parameter() {
    Torch.seed(1);
    Tensor p = torch.tensor(new float[] {(float) START[0], (float) START[1]});
    p.set_requires_grad(true);
    return p;
  }

  /** Sets p.grad to g by differentiating sum(p * g). */
  static void gradient(Tensor p, double[] g) {
    p.mul(torch.tensor(new float[] {(float) g[0], (float) g[1]})).sum().backward();
  }

  /** torch.optim.AdamW's update, step by step in doubles. */
  static double[] reference(double lr, double lrScale, boolean decay) {
    double[] p = START.clone();
    double[] m = new double[2];
    double[] v = new double[2];
    for (int t = 1; t <= GRADS.length; t++) {
      for (int i = 0; i < 2; i++) {
        double g = GRADS[t - 1][i];
        double rate = lr * lrScale;
        if (decay) {
          p[i] *= 1 - rate * 0.1;
        }
        m[i] = 0.9 * m[i] + 0.1 * g;
        v[i] = 0.95 * v[i] + 0.05 * g * g;
        double mHat = m[i] / (1 - Math.pow(0.9, t));
        double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(0.95, t)) + 1e-8;
        p[i] -= rate * mHat / denom;
      }
    }
    return p;
  }

  static double[] values(Tensor t) {
    FloatPointer data = new FloatPointer(t.contiguous().data_ptr());
    return new double[] {data.get(0), data.get(1)};
  }

  /** The optimizer with the fused kernel required ({@code on}) or off, so each case runs the path it names. */
  static AdamW adamW(List<NamedParameter> parameters, boolean fused, boolean flatGradients) {
    return AdamW.builder(CONFIG).fusedKernel(fused ? KernelChoice.ON : KernelChoice.OFF).flatGradients(flatGradients)
        .build(parameters);
  }

  private static double[] train(NamedParameter parameter, boolean flatGradients) {
    AdamW adam = AdamW.builder(CONFIG).flatGradients(flatGradients).build(List.of(parameter));
    for (double[] g : GRADS) {
      gradient(parameter.tensor(), g);
      adam.step(0.1);
      adam.zeroGradients();
    }
    return values(parameter.tensor());
  }

  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void step_decayedTensor_matchesHandComputedAdamW(boolean flatGradients) {
    double[] expected = reference(0.1, 1.0, true);
    double[] actual = train(new NamedParameter("w", parameter(), true, 1.0), flatGradients);

    assertThat(actual[0]).isCloseTo(expected[0], within(1e-6));
    assertThat(actual[1]).isCloseTo(expected[1], within(1e-6));
  }

  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void step_normOrBiasWithHalfRate_isNotDecayedAndMovesAtHalfRate(boolean flatGradients) {
    double[] expected = reference(0.1, 0.5, false);
    double[] actual = train(new NamedParameter("norm.weight", parameter(), false, 0.5), flatGradients);

    assertThat(actual[0]).isCloseTo(expected[0], within(1e-6));
    assertThat(actual[1]).isCloseTo(expected[1], within(1e-6));
  }

  @Test
  void step_lrScaleZero_leavesTensorBitIdentical() {
    double[] actual = train(new NamedParameter("frozen", parameter(), true, 0.0), false);

    assertThat(actual[0]).isCloseTo(START[0], within(0.0));
    assertThat(actual[1]).isCloseTo(START[1], within(0.0));
  }

  /** Clipping scales the gradients the next step uses: (3, 4) clipped to norm 1 steps as (0.6, 0.8) would. */
  @ParameterizedTest(name = "fused: {0}, flat gradients: {1}")
  @CsvSource({"true, false", "true, true", "false, false", "false, true"})
  void clipGradients_aboveMax_stepsWithGradientsScaledToMax(boolean fused, boolean flatGradients) {
    Tensor clipped = parameter();
    Tensor scaled = parameter();
    AdamW clipping = adamW(List.of(new NamedParameter("w", clipped, true, 1.0)), fused, flatGradients);
    AdamW plain = adamW(List.of(new NamedParameter("w", scaled, true, 1.0)), fused, flatGradients);
    gradient(clipped, new double[] {3.0, 4.0});
    gradient(scaled, new double[] {0.6, 0.8});

    double norm = clipping.clipGradients(1.0).item_double();
    clipping.step(0.1);
    plain.step(0.1);

    assertThat(norm).isCloseTo(5.0, within(1e-6));
    assertThat(values(clipped)).containsExactly(values(scaled), within(1e-6));
    assertThat(values(clipping.state().get("exp_avg.w")))
        .containsExactly(values(plain.state().get("exp_avg.w")), within(1e-6));
  }

  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void clipGradients_belowMax_leavesTheStepUnscaled(boolean flatGradients) {
    Tensor clipped = parameter();
    Tensor plain = parameter();
    AdamW clipping = AdamW.builder(CONFIG).flatGradients(flatGradients)
        .build(List.of(new NamedParameter("w", clipped, true, 1.0)));
    AdamW unclipped = AdamW.builder(CONFIG).flatGradients(flatGradients)
        .build(List.of(new NamedParameter("w", plain, true, 1.0)));
    gradient(clipped, new double[] {0.3, 0.4});
    gradient(plain, new double[] {0.3, 0.4});

    assertThat(clipping.clipGradients(1.0).item_double()).isCloseTo(0.5, within(1e-6));
    clipping.step(0.1);
    unclipped.step(0.1);

    assertThat(values(clipped)).containsExactly(values(plain), within(0.0));
  }

  /** Backward passes add up into the gradient the optimizer reads, whether it is autograd's own or a flat view. */
  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void backward_twice_accumulatesIntoTheGradientTheOptimizerReads(boolean flatGradients) {
    Tensor p = parameter();
    Tensor q = parameter();
    AdamW adam = AdamW.builder(CONFIG).flatGradients(flatGradients)
        .build(List.of(new NamedParameter("p", p, true, 1.0), new NamedParameter("q", q, false, 1.0)));
    gradient(p, GRADS[0]);
    gradient(p, GRADS[1]);
    gradient(q, GRADS[0]);

    assertThat(values(p.grad())).containsExactly(new double[] {1.5, -1.75}, within(1e-6));
    assertThat(values(q.grad())).containsExactly(new double[] {0.5, -2.0}, within(1e-6));
    assertThat(adam.clipGradients(0).item_double() * adam.clipGradients(0).item_double())
        .as("the norm covers both tensors: 1.5^2 + 1.75^2 + 0.5^2 + 2^2")
        .isCloseTo(9.5625, within(1e-4));
    adam.zeroGradients();
    assertThat(p.grad().defined() ? p.grad().abs().sum().item_double() : 0.0).isCloseTo(0.0, within(0.0));
    gradient(p, GRADS[1]);
    assertThat(values(p.grad()))
        .as("after zeroGradients a backward starts from nothing")
        .containsExactly(GRADS[1], within(1e-6));
    assertThat(values(p)).containsExactly(START, within(1e-7));
  }

  /** What a backward recorded once and replayed needs: the gradient tensors stay where they are, step after step. */
  @Test
  void zeroGradients_keptGradients_zeroesThemInPlaceAndTheNextBackwardAddsIntoThem() {
    Tensor p = parameter();
    AdamW adam = AdamW.builder(CONFIG).build(List.of(new NamedParameter("p", p, true, 1.0)));
    adam.keepGradients();
    gradient(p, GRADS[0]);
    long address = p.grad().data_ptr().address();
    adam.step(0.1);
    adam.zeroGradients();

    assertThat(p.grad().defined()).as("kept").isTrue();
    assertThat(values(p.grad())).containsExactly(new double[] {0.0, 0.0}, within(0.0));
    gradient(p, GRADS[1]);
    assertThat(p.grad().data_ptr().address()).as("the same tensor").isEqualTo(address);
    assertThat(values(p.grad())).as("a backward after zeroing gives its own gradient")
        .containsExactly(GRADS[1], within(1e-6));
    adam.step(0.1);
    assertThat(values(p)).as("two steps as torch.optim.AdamW takes them")
        .containsExactly(reference(0.1, 1.0, true), within(1e-6));
  }

  /** A tensor no backward pass reached steps with a zero gradient: its weight decay still applies. */
  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void step_tensorWithoutGradient_isDecayedOnly(boolean flatGradients) {
    Tensor reached = parameter();
    Tensor unreached = parameter();
    AdamW adam = AdamW.builder(CONFIG).flatGradients(flatGradients)
        .build(List.of(new NamedParameter("a", reached, true, 1.0), new NamedParameter("b", unreached, true, 1.0)));
    gradient(reached, GRADS[0]);

    adam.clipGradients(1.0);
    adam.step(0.1);

    assertThat(values(unreached))
        .containsExactly(new double[] {START[0] * (1 - 0.1 * 0.1), START[1] * (1 - 0.1 * 0.1)}, within(1e-6));
  }

  /** The fused kernel and the tensor-operation fallback are the same update. */
  @ParameterizedTest(name = "flat gradients: {0}")
  @ValueSource(booleans = {false, true})
  void step_fusedKernel_equalsTheTensorOperationUpdate(boolean flatGradients) {
    Tensor fusedParameter = parameter();
    Tensor plainParameter = parameter();
    AdamW fused = adamW(List.of(new NamedParameter("w", fusedParameter, true, 0.5)), true, flatGradients);
    AdamW plain = adamW(List.of(new NamedParameter("w", plainParameter, true, 0.5)), false, flatGradients);
    for (int step = 0; step < 5; step++) {
      for (double[] g : GRADS) {
        gradient(fusedParameter, g);
        gradient(plainParameter, g);
        fused.clipGradients(1.0);
        plain.clipGradients(1.0);
        fused.step(0.05);
        plain.step(0.05);
        fused.zeroGradients();
        plain.zeroGradients();
      }
    }
    assertThat(values(fusedParameter)).containsExactly(values(plainParameter), within(1e-6));
    assertThat(values(fused.state().get("exp_avg_sq.w")))
        .as("float32 moments, summed in another order")
        .containsExactly(values(plain.state().get("exp_avg_sq.w")), within(1e-6));
  }

  @ParameterizedTest(name = "fused: {0}")
  @CsvSource({"true, fused", "false, tensor operations (off)"})
  void kernels_saysWhichUpdateRuns(boolean fused, String adamw) {
    AdamW adam = adamW(List.of(new NamedParameter("w", parameter(), true, 1.0)), fused, false);

    assertThat(adam.kernels()).isEqualTo(java.util.Map.of("adamw", adamw, "bf16_copies", "off"));
  }
}
