package org.fastllm.modules.bench;

import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch_cuda;
import org.fastllm.modules.attention.Rotary;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.ScanSegments;
import org.fastllm.modules.autograd.BackwardTape;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.loss.CrossEntropy;
import org.fastllm.modules.norm.Normalization;
import org.fastllm.modules.ssm.SelectiveScan;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.optim.AdamW;
import org.fastllm.modules.train.Autocast;

/**
 * Device check, not a unit test (it needs a GPU): CUDA memory held after each of 20 steps of a hand-written kernel's
 * forward and backward (the cross-entropy at 8192 x 50304 bf16, the rotary at a 1B model's query shape, the selective
 * scan at a Mamba 2 mixer's, layer norm with its kernels under autocast, a linear layer trained through AdamW's bf16
 * copy), each step in its own pointer scope, as training runs them; every layer kernel on (a kernel that cannot
 * run stops the check with the reason). Flat means nothing of a step outlives it; exits 1 if the memory in use
 * grows by more than one step's tensors.
 *
 * <pre class="text">{@code run-gpu.sh org.fastllm.modules.bench.DeviceMemoryCheck}</pre>
 */
public final class DeviceMemoryCheck {
  private DeviceMemoryCheck() {}

  public static void main(String[] args) {
    TensorOptions bf16 = new TensorOptions(torch.ScalarType.BFloat16).device(new DeviceOptional(
        new org.bytedeco.pytorch.Device("cuda:0")));
    boolean ok = true;
    LayerContext context = LayerContext.of(new KernelsConfig(KernelChoice.ON, KernelChoice.ON, KernelChoice.ON,
        KernelChoice.ON, KernelChoice.AUTO, KernelChoice.AUTO, ScanSegments.AUTO));
    BackwardTape tape = context.tape();
    Tensor logits = torch.randn(new long[] {8192, 50304}, bf16);
    Tensor ids = torch.randint(50304, new long[] {8192}, new TensorOptions(torch.ScalarType.Long)
        .device(new DeviceOptional(logits.device())));
    CrossEntropy crossEntropy = new CrossEntropy(context);
    ok &= flat("cross-entropy", tape, () -> {
      Tensor x = logits.detach().set_requires_grad(true);
      Tensor loss = crossEntropy.mean(x, ids);
      loss.backward();
      return x.grad();
    });
    Tensor queries = torch.randn(new long[] {4, 2048, 16, 128}, bf16);
    Rotary rotary = new Rotary(10000.0, context);
    ok &= flat("rotary", tape, () -> {
      Tensor x = queries.detach().set_requires_grad(true);
      rotary.apply(x.transpose(1, 2)).mul(new Scalar(2.0)).sum().backward();
      return x.grad();
    });
    TensorOptions floats = new TensorOptions(torch.ScalarType.Float).device(new DeviceOptional(logits.device()));
    Tensor[] scanInputs = {torch.randn(new long[] {2, 512, 1024}, floats),
        torch.rand(new long[] {2, 512, 1024}, floats).mul(new Scalar(0.1)),
        torch.rand(new long[] {1024, 16}, floats).add(new Scalar(0.5)).neg(),
        torch.randn(new long[] {2, 512, 64, 16}, floats), torch.randn(new long[] {2, 512, 64, 16}, floats)};
    SelectiveScan scan = SelectiveScan.of(SelectiveScan.DEFAULT_CHUNK, context);
    ok &= flat("selective scan", tape, () -> {
      Tensor u = scanInputs[0].detach().set_requires_grad(true);
      scan.scan(u, scanInputs[1], scanInputs[2], scanInputs[3], scanInputs[4]).sum().backward();
      return u.grad();
    });
    Normalization norm = Normalization.of(new NormalizationConfig(NormType.LAYER_NORM, 1e-5), 2048, context);
    norm.to(logits.device(), false);
    Tensor hidden = torch.randn(new long[] {4, 2048, 2048}, floats);
    ok &= flat("layer norm", tape, () -> {
      Tensor x = hidden.detach().set_requires_grad(true);
      Tensor y;
      try (Autocast autocast = Autocast.bf16(x.device(), true)) {
        y = norm.forward(x);
      }
      y.mul(new Scalar(2.0)).sum().backward();
      return x.grad();
    });
    Linear layer = Linear.kaiming("layer", 8192, 2048, true);
    layer.to(logits.device(), false);
    AdamW adam = AdamW.builder(AdamWDefaults.CONFIG).bf16Copies(org.fastllm.dsl.config.KernelChoice.ON)
        .build(java.util.List.of(new NamedParameter("layer.weight", layer.weight(), true, 1.0),
            new NamedParameter("layer.bias", layer.bias(), false, 1.0)), java.util.List.of(layer));
    ok &= flat("adamw bf16 copy", tape, () -> {
      Tensor x = hidden.detach().set_requires_grad(true);
      Tensor y;
      try (Autocast autocast = Autocast.bf16(x.device(), true)) {
        y = layer.forward(x, Adapters.NONE);
      }
      y.to(torch.ScalarType.Float).sum().backward();
      Tensor grad = x.grad();
      adam.step(1e-4);
      adam.zeroGradients();
      return grad;
    });
    System.out.println(ok ? "device memory check: flat" : "device memory check: GROWS");
    System.exit(ok ? 0 : 1);
  }

  private static boolean flat(String name, BackwardTape tape, java.util.function.Supplier<Tensor> step) {
    long[] held = new long[20];
    long stepBytes = 0;
    for (int i = 0; i < held.length; i++) {
      try (PointerScope scope = new PointerScope()) {
        Tensor grad = step.get();
        stepBytes = Math.max(stepBytes, grad.nbytes());
        torch_cuda.getCurrentCUDAStream((byte) 0).synchronize();
      }
      held[i] = allocated();
    }
    long growth = held[held.length - 1] - held[2];
    boolean ok = growth < stepBytes;
    System.out.printf(Locale.ROOT, "%-14s in use after steps 1, 3, 20: %.2f %.2f %.2f GiB, pending %d  %s%n", name,
        held[0] / 1073741824.0, held[2] / 1073741824.0, held[held.length - 1] / 1073741824.0,
        tape.pending(), ok ? "flat" : "GROWS");
    return ok;
  }

  /** AdamW settings for the check: torch.optim.AdamW's usual ones. */
  private static final class AdamWDefaults {
    static final org.fastllm.dsl.config.OptimizerConfig CONFIG = new org.fastllm.dsl.config.OptimizerConfig(1e-4,
        0.0, 0, org.fastllm.dsl.config.LrSchedule.CONSTANT, 0.1, 0.9, 0.95, 1e-8, 1.0);
  }

  private static long allocated() {
    return torch_cuda.getDeviceAllocator(torch.DeviceType.CUDA).getDeviceStats((byte) 0).allocated_bytes().current();
  }
}
