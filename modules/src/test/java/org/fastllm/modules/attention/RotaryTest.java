package org.fastllm.modules.attention;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelImplementations;
import org.fastllm.modules.kernel.KernelReport;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RotaryTest {

  /** Position t, pair f: (re, im) turned by t * theta^(-2f/size), one element at a time in double. */
  private static Tensor slow(Tensor x, double theta) {
    Tensor d = x.to(torch.ScalarType.Double).contiguous();
    long b = d.size(0);
    long h = d.size(1);
    long time = d.size(2);
    long size = d.size(3);
    double[] v = new double[(int) d.numel()];
    d.data_ptr_double().get(v);
    double[] out = new double[v.length];
    for (int i = 0; i < b * h; i++) {
      for (int t = 0; t < time; t++) {
        for (int f = 0; f < size / 2; f++) {
          double angle = t * Math.pow(theta, -2.0 * f / size);
          int base = (int) ((i * time + t) * size);
          double re = v[base + f];
          double im = v[(int) (base + f + size / 2)];
          out[base + f] = re * Math.cos(angle) - im * Math.sin(angle);
          out[(int) (base + f + size / 2)] = re * Math.sin(angle) + im * Math.cos(angle);
        }
      }
    }
    Tensor result = torch.empty_like(d);
    result.data_ptr_double().put(out);
    return result;
  }

  enum Type { DOUBLE, FLOAT }

  @ParameterizedTest
  @EnumSource(Type.class)
  void cachedTables_growForLongerSequences_andServeShorterOnes(Type type) {
    torch.ScalarType scalar = type == Type.DOUBLE ? torch.ScalarType.Double : torch.ScalarType.Float;
    Rotary rotary = new Rotary(500.0, LayerContext.defaults());
    for (int time : new int[] {5, 9, 3, 9, 40}) {
      Torch.seed(time);
      Tensor x = Torch.randn(scalar, 2, 3, time, 8);
      double error = Torch.relativeError(rotary.apply(x), slow(x, 500.0));
      assertThat(error < (type == Type.DOUBLE ? 1e-12 : 1e-6)).as("t=" + time + ": " + error).isTrue();
    }
  }

  /**
   * The kernel path's wiring (the float32 tables, the output's type, the backward turning the other way), through
   * the tensor twin of the kernel, against autograd of the tensor operations, for contiguous and transposed input.
   */
  @ParameterizedTest
  @EnumSource(Type.class)
  void kernelPath_valuesAndGradients_matchTheTensorOperations(Type type) {
    torch.ScalarType scalar = type == Type.DOUBLE ? torch.ScalarType.Double : torch.ScalarType.Float;
    LayerContext context = LayerContext.of(KernelsConfig.DEFAULTS.withDefaults(),
        TensorRotaryKernels.in(KernelImplementations.STANDARD));
    Rotary twin = new Rotary(500.0, context);
    Rotary plain = new Rotary(500.0, LayerContext.tensorOperations());
    for (boolean transposed : new boolean[] {false, true}) {
      Torch.seed(transposed ? 8 : 9);
      Tensor base = transposed ? Torch.randn(scalar, 2, 7, 3, 8).transpose(1, 2) : Torch.randn(scalar, 2, 3, 7, 8);
      Tensor weights = Torch.randn(scalar, 2, 3, 7, 8);
      Tensor x = base.detach().clone().set_requires_grad(true);
      Tensor expected = plain.apply(x);
      expected.mul(weights).sum().backward();
      Tensor x2 = base.detach().clone().set_requires_grad(true);

      Tensor actual = twin.apply(x2);
      actual.mul(weights).sum().backward();

      double bound = 1e-6;   // the kernel path turns by float32 tables, also for float64 input
      assertThat(actual.scalar_type().intern()).as("the output keeps the input's type").isEqualTo(scalar);
      assertThat(Torch.relativeError(actual, expected) < bound).as("values, transposed " + transposed).isTrue();
      assertThat(Torch.relativeError(x2.grad(), x.grad()) < bound)
          .as("input gradient, transposed " + transposed)
          .isTrue();
    }
    assertThat(context.tape().pending()).isEqualTo(0);
    assertThat(context.report().snapshot()).isEqualTo(Map.of("rotary", KernelReport.KERNEL));
  }

  /** Positions rotated after an offset turn as the same positions of the whole sequence, by either path. */
  @Test
  void apply_withOffset_equalsThoseSamePositionsOfTheWholeSequence() {
    LayerContext twinContext = LayerContext.of(KernelsConfig.DEFAULTS.withDefaults(),
        TensorRotaryKernels.in(KernelImplementations.STANDARD));
    for (Rotary rotary : new Rotary[] {new Rotary(300.0, LayerContext.tensorOperations()),
        new Rotary(300.0, twinContext)}) {
      Torch.seed(4);
      Tensor x = Torch.randn(torch.ScalarType.Float, 2, 3, 23, 8);
      Tensor whole = slow(x, 300.0);
      for (long offset : new long[] {0, 5, 20}) {
        Tensor part = rotary.apply(x.narrow(2, offset, 3), offset);
        assertThat(Torch.relativeError(part, whole.narrow(2, offset, 3))).as("offset " + offset).isLessThan(1e-6);
      }
    }
  }

  /** The launch the CUDA kernel makes, built from a CPU tensor seen transposed, matches rotary.cu's parameters. */
  @Test
  void cudaKernel_launch_matchesTheKernelsParametersInTheSource() {
    Tensor x = torch.zeros(2, 7, 3, 8).transpose(1, 2);
    Tensor tables = torch.zeros(7, 4);
    RuntimeKernels.check(CudaRotaryKernels.SOURCE,
        CudaRotaryKernels.launch(x, torch.zeros(2, 3, 7, 8), tables, tables, -1.0f));
  }
}
