package org.fastllm.modules.norm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.within;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * The fused normalization's wiring (shapes, the bfloat16 output, gradients of input, weight and bias, an output read
 * twice) and its kernels' backward formulas, through the tensor twin of the kernels, against libtorch's layer_norm
 * and rms_norm in float64. The CUDA kernels are checked against the same reference on the GPU
 * ({@code org.fastllm.modules.bench.KernelCheck}).
 */
class FusedNormTest {
  private static final double EPSILON = 1e-5;

  /** Values bfloat16 holds exactly, as float64: upstream gradients the fused path receives without rounding. */
  private static Tensor bf16Exact(long... shape) {
    return Torch.randn(torch.ScalarType.Double, shape).to(torch.ScalarType.BFloat16).to(torch.ScalarType.Double);
  }

  private static KernelFeature feature() {
    return LayerContext.defaults().feature(KernelKey.NORM);
  }

  private static Normalization layerNorm(KernelChoice choice) {
    KernelsConfig kernels = new KernelsConfig(choice, null, null, null, null, null, null).withDefaults();
    return Normalization.of(new NormalizationConfig(NormType.LAYER_NORM, EPSILON), 16, LayerContext.of(kernels));
  }

  private static Tensor reference(Tensor x, Tensor weight, Tensor bias) {
    long[] shape = {x.size(x.dim() - 1)};
    return bias == null
        ? torch.rms_norm(x, shape, new TensorOptional(weight), new DoubleOptional(EPSILON))
        : torch.layer_norm(x, shape, new TensorOptional(weight), new TensorOptional(bias), EPSILON, false);
  }

  private static void check(boolean rms) {
    Torch.seed(rms ? 11 : 12);
    long[] shape = {3, 5, 40};
    Tensor base = Torch.randn(torch.ScalarType.Double, shape).mul(new Scalar(2.0)).add(new Scalar(0.7));
    Tensor baseWeight = Torch.randn(torch.ScalarType.Double, 40).add(new Scalar(1.0));
    Tensor baseBias = rms ? null : Torch.randn(torch.ScalarType.Double, 40);
    Tensor upstream = bf16Exact(shape);
    Tensor x64 = base.to(torch.ScalarType.Float).to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor w64 = baseWeight.to(torch.ScalarType.Float).to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor b64 = rms ? null : baseBias.to(torch.ScalarType.Float).to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor expected = reference(x64, w64, b64);
    expected.mul(upstream).sum().backward();
    Tensor x = base.to(torch.ScalarType.Float).set_requires_grad(true);
    Tensor w = baseWeight.to(torch.ScalarType.Float).set_requires_grad(true);
    Tensor b = rms ? null : baseBias.to(torch.ScalarType.Float).set_requires_grad(true);

    Tensor y = FusedNorm.apply(new TensorNormKernels(), feature(), x, w, b, EPSILON);
    y.to(torch.ScalarType.Double).mul(upstream).sum().backward();

    assertThat(y.scalar_type().intern()).as("the type autocast's products read").isEqualTo(torch.ScalarType.BFloat16);
    assertThat(java.util.Arrays.toString(Torch.shape(y))).isEqualTo(java.util.Arrays.toString(shape));
    assertThat(Torch.relativeError(y.to(torch.ScalarType.Double), expected.detach(), 1e-3) < 4e-3)
        .as("values, bf16 rounding")
        .isTrue();
    assertThat(Torch.relativeError(x.grad(), x64.grad(), 1e-3) < 1e-5).as("input gradient").isTrue();
    assertThat(Torch.relativeError(w.grad(), w64.grad(), 1e-3) < 1e-5).as("weight gradient").isTrue();
    if (!rms) {
      assertThat(Torch.relativeError(b.grad(), b64.grad(), 1e-3) < 1e-5).as("bias gradient").isTrue();
    }
  }

  @Test
  void layerNorm_valuesAndGradients_matchLibtorchInFloat64() {
    check(false);
  }

  @Test
  void rmsNorm_valuesAndGradients_matchLibtorchInFloat64() {
    check(true);
  }

  @Test
  void outputReadTwice_inputGradientIsTheSumOfBoth() {
    Torch.seed(13);
    Tensor base = Torch.randn(torch.ScalarType.Float, 6, 32);
    Tensor weight = Torch.randn(torch.ScalarType.Float, 32);
    Tensor bias = Torch.randn(torch.ScalarType.Float, 32);
    Tensor first = bf16Exact(6, 32).to(torch.ScalarType.Float);
    Tensor second = bf16Exact(6, 32).to(torch.ScalarType.Float);
    Tensor x64 = base.to(torch.ScalarType.Double).set_requires_grad(true);
    Tensor both = first.add(second).to(torch.ScalarType.Double);
    reference(x64, weight.to(torch.ScalarType.Double), bias.to(torch.ScalarType.Double)).mul(both).sum().backward();
    Tensor x = base.clone().set_requires_grad(true);

    Tensor y = FusedNorm.apply(new TensorNormKernels(), feature(), x, weight, bias, EPSILON).to(torch.ScalarType.Float);
    y.mul(first).sum().add(y.mul(second).sum()).backward();

    // the two bf16 gradients are added in bf16 before the norm's backward: one rounding of their sum
    assertThat(Torch.relativeError(x.grad(), x64.grad(), 1e-3) < 1e-2).as("input gradient").isTrue();
    assertThat(weight.grad().defined() ? weight.grad() : null).as("a weight that wants no gradient gets none").isNull();
  }

  @Test
  void normalization_onTheCpu_isLibtorchsFloat32Norm() {
    Normalization norm = layerNorm(KernelChoice.AUTO);
    Tensor x = Torch.randn(torch.ScalarType.Float, 4, 16);

    Tensor y = norm.forward(x);

    assertThat(y.scalar_type().intern()).isEqualTo(torch.ScalarType.Float);
    assertThat(Torch.relativeError(y, reference(x, torch.ones(16), torch.zeros(16)))).isCloseTo(0.0, within(1e-6));
  }

  @Test
  void normalization_kernelsOnAndTheCpu_stopsNamingTheKeyAndTheReason() {
    Normalization norm = layerNorm(KernelChoice.ON);

    IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
        () -> norm.forward(Torch.randn(torch.ScalarType.Float, 4, 16)));
    assertThat(e).as("expected IllegalStateException to be thrown").isNotNull();

    assertThat(e.getMessage())
        .isEqualTo("training.kernels.norm is on, but the norm kernel cannot run here: the input is not on a CUDA "
            + "device (cpu); set it to auto or off");
  }

  /** The launches the CUDA kernels make, built from CPU tensors, match the kernels' parameters in norm.cu. */
  @Test
  void cudaKernels_launches_matchTheKernelsParametersInTheSource() {
    Tensor x = torch.zeros(6, 32);
    Tensor w = torch.ones(32);
    Tensor rows = torch.zeros(6);
    Tensor halves = torch.zeros(6, 32).to(torch.ScalarType.BFloat16);
    Tensor partial = torch.zeros(6, 32);
    for (Tensor bias : new Tensor[] {torch.zeros(32), null}) {
      RuntimeKernels.check(CudaNormKernels.SOURCE,
          CudaNormKernels.forwardLaunch(x, w, bias, EPSILON, halves, rows, rows));
    }
    RuntimeKernels.check(CudaNormKernels.SOURCE,
        CudaNormKernels.backwardLaunch(halves, x, w, rows, rows, x, partial, partial));
  }
}
