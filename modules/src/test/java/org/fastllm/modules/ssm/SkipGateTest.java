package org.fastllm.modules.ssm;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.api.Test;

/**
 * The Mamba mixers' D skip and silu(z) gate through its kernels' float64 twin ({@link TensorGateKernels}) against
 * {@code (y + D u) silu(z)} and its gradients by autograd in float64: the wiring (a z that is a slice of a wider
 * projection, the bfloat16 output, the gradients of y, u, D and z) and the backward's closed forms. The CUDA
 * kernels are checked against the same reference on the GPU ({@code org.fastllm.modules.bench.KernelCheck}).
 */
class SkipGateTest {
  private static SkipGate twin() {
    return new SkipGate(LayerContext.defaults().feature(KernelKey.SCAN), new TensorGateKernels());
  }

  @Test
  void fusedGate_valuesAndGradients_matchAutogradInFloat64() {
    Torch.seed(21);
    long[] shape = {2, 5, 12};
    Tensor y = Torch.randn(torch.ScalarType.Float, shape).set_requires_grad(true);
    Tensor u = Torch.randn(torch.ScalarType.Float, shape).to(torch.ScalarType.BFloat16).set_requires_grad(true);
    // z as the input projection leaves it: a slice of wider rows
    Tensor wide = Torch.randn(torch.ScalarType.Float, 2, 5, 30).mul(new org.bytedeco.pytorch.Scalar(2.0))
        .to(torch.ScalarType.BFloat16).set_requires_grad(true);
    Tensor z = wide.narrow(2, 7, 12);
    Tensor skip = Torch.randn(torch.ScalarType.Float, 12).set_requires_grad(true);
    Tensor upstream = Torch.randn(torch.ScalarType.Float, shape).to(torch.ScalarType.BFloat16)
        .to(torch.ScalarType.Double);
    Tensor[] exact = {y, u, wide, skip};
    for (int i = 0; i < exact.length; i++) {
      exact[i] = exact[i].detach().to(torch.ScalarType.Double).set_requires_grad(true);
    }
    Tensor zExact = exact[2].narrow(2, 7, 12);
    Tensor expected = exact[0].add(exact[1].mul(exact[3])).mul(torch.silu(zExact));
    expected.mul(upstream).sum().backward();

    assertThat(twin().unavailable(y, u, skip, z)).as("a slice of wider rows is taken").isNull();
    Tensor gated = twin().apply(y, u, skip, z);
    gated.to(torch.ScalarType.Double).mul(upstream).sum().backward();

    assertThat(gated.scalar_type().intern()).as("what the output projection reads").isEqualTo(torch.ScalarType.BFloat16);
    assertThat(Torch.relativeError(gated.to(torch.ScalarType.Double), expected.detach(), 1e-3) < 4e-3)
        .as("values, bf16 rounding")
        .isTrue();
    assertThat(Torch.relativeError(y.grad(), exact[0].grad(), 1e-3) < 4e-3).as("dy").isTrue();
    assertThat(Torch.relativeError(u.grad().to(torch.ScalarType.Double), exact[1].grad(), 1e-3) < 4e-3).as("du")
        .isTrue();
    assertThat(Torch.relativeError(skip.grad(), exact[3].grad(), 1e-3) < 1e-5).as("dD").isTrue();
    assertThat(Torch.relativeError(wide.grad().to(torch.ScalarType.Double), exact[2].grad(), 1e-3) < 4e-3)
        .as("dz, into its slice of the wider rows")
        .isTrue();
  }

  @Test
  void gate_inFloat32_isTheTensorOperations() {
    Torch.seed(22);
    Tensor y = Torch.randn(torch.ScalarType.Float, 2, 3, 8);
    Tensor u = Torch.randn(torch.ScalarType.Float, 2, 3, 8);
    Tensor z = Torch.randn(torch.ScalarType.Float, 2, 3, 8);
    Tensor skip = Torch.randn(torch.ScalarType.Float, 8);

    assertThat(twin().unavailable(y, u, skip, z))
        .isEqualTo("u or z is not bfloat16 rows of [b, t, D], as bf16 autocast leaves them");
    assertThat(torch.equal(twin().apply(y, u, skip, z), y.add(u.mul(skip)).mul(torch.silu(z)))).isTrue();
    assertThat(torch.equal(SelectiveScan.of(8, LayerContext.defaults()).gate(y, u, skip, z),
        y.add(u.mul(skip)).mul(torch.silu(z)))).as("the mixers' gate on the CPU").isTrue();
  }

  @Test
  void gate_onTheCpu_leavesTheReportToTheScan() {
    LayerContext context = LayerContext.defaults();
    Tensor y = Torch.randn(torch.ScalarType.Float, 1, 2, 4);
    Tensor half = Torch.randn(torch.ScalarType.Float, 1, 2, 4).to(torch.ScalarType.BFloat16);
    SkipGate gate = new SkipGate(context.feature(KernelKey.SCAN), new CudaGateKernels());

    Tensor gated = gate.apply(y, half, Torch.randn(torch.ScalarType.Float, 4), half);

    assertThat(gated.scalar_type().intern()).as("the tensor operations' float32").isEqualTo(torch.ScalarType.Float);
    assertThat(context.report().snapshot()).as("the scan's own entry says why no kernel runs on the CPU").isEmpty();
  }

  @Test
  void gate_whereOnlyItsKernelRuns_saysSoUnderTheScansKey() {
    LayerContext context = LayerContext.defaults();
    Tensor y = Torch.randn(torch.ScalarType.Float, 1, 2, 4);
    Tensor half = y.to(torch.ScalarType.BFloat16);

    new SkipGate(context.feature(KernelKey.SCAN), new TensorGateKernels()).apply(y, half, torch.ones(4), half);

    assertThat(context.report().snapshot()).isEqualTo(java.util.Map.of("scan", "cuda kernel"));
  }

  /** The launches the CUDA kernels make, built from CPU tensors, match the kernels' parameters in gate.cu. */
  @Test
  void cudaKernels_launches_matchTheKernelsParametersInTheSource() {
    Tensor y = torch.zeros(new long[] {6, 4});
    Tensor half = torch.zeros(new long[] {6, 10}).to(torch.ScalarType.BFloat16).narrow(1, 2, 4);
    Tensor skip = torch.zeros(new long[] {4});

    RuntimeKernels.check(CudaGateKernels.SOURCE, CudaGateKernels.forwardLaunch(y, half, half, skip, half));
    RuntimeKernels.check(CudaGateKernels.SOURCE,
        CudaGateKernels.backwardLaunch(half, y, half, half, skip, y, half, half, skip));
  }
}
