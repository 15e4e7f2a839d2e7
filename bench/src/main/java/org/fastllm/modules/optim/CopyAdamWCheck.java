package org.fastllm.modules.optim;

import java.util.List;
import java.util.Locale;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.cuda.RuntimeKernels;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.stack.NamedParameter;
import org.fastllm.modules.testing.Torch;

/**
 * GPU part of {@code KernelCheck} for the optimizer's bfloat16 copies: the update kernel ({@code adamw.cu}) against
 * the same update in tensor operations on the CPU, and a linear layer under CUDA autocast reading its copy.
 */
public final class CopyAdamWCheck {
  private CopyAdamWCheck() {}

  /** Prints one line per check; false if any fails. */
  public static boolean run(Device device) {
    Torch.seed(21);
    long n = 1_000_003;   // not a multiple of the block
    Tensor[] cpu = {torch.randn(new long[] {n}), torch.randn(new long[] {n}).mul(new Scalar(0.01)),
        torch.rand(new long[] {n}).mul(new Scalar(1e-3)), torch.randn(new long[] {n}).to(torch.ScalarType.BFloat16),
        torch.zeros(new long[] {n}).to(torch.ScalarType.BFloat16), torch.full(new long[] {}, new Scalar(1.7))};
    Tensor[] gpu = new Tensor[cpu.length];
    for (int i = 0; i < cpu.length; i++) {
      gpu[i] = cpu[i].to(device, cpu[i].scalar_type());
    }
    boolean compiled = CopyAdamW.unavailable(gpu[0]) == null;
    for (Tensor[] t : List.of(cpu, gpu)) {
      for (long step = 1; step <= 3; step++) {
        CopyAdamW.step(t[0], t[1], t[2], t[3], t[4], t[5], 1e-3, 0.1, 0.9, 0.95, 1e-8, step);
      }
    }
    torch.cuda_synchronize();
    double weights = Torch.relativeError(gpu[0].cpu(), cpu[0]);
    double moments = Math.max(Torch.relativeError(gpu[1].cpu(), cpu[1]), Torch.relativeError(gpu[2].cpu(), cpu[2]));
    boolean rounded = gpu[4].cpu().equal(gpu[0].cpu().to(torch.ScalarType.BFloat16));
    boolean ok = compiled && weights < 1e-6 && moments < 1e-6 && rounded;
    System.out.printf(Locale.ROOT, "adamw bf16 copy n=%d: weight %.1e moments %.1e copy %s  %s%n", n, weights,
        moments, rounded ? "= bf16(weight)" : "DIFFERS", ok ? "ok" : compiled ? "OVER 1e-6" : "NOT COMPILED");
    return ok & linearReadsItsCopy(device);
  }

  private static boolean linearReadsItsCopy(Device device) {
    Linear layer = Linear.kaiming("layer", 64, 32, true);
    layer.to(device, false);
    AdamW adam = AdamW.builder(AdamWTest.CONFIG).bf16Copies(org.fastllm.dsl.config.KernelChoice.ON)
        .build(List.of(new NamedParameter("layer.weight", layer.weight(), true, 1.0)), List.of(layer));
    Tensor x = torch.randn(new long[] {8, 32}).to(device, torch.ScalarType.Float);
    Tensor y;
    try (org.fastllm.modules.train.Autocast autocast = org.fastllm.modules.train.Autocast.bf16(device, true)) {
      y = layer.forward(x, org.fastllm.modules.layer.Adapters.NONE);
    }
    y.to(torch.ScalarType.Float).sum().backward();
    boolean ok = adam.copies() == 1 && layer.copy().grad().defined() && !layer.weight().grad().defined();
    adam.step(1e-3);
    ok &= layer.copy().equal(layer.weight().to(torch.ScalarType.BFloat16));
    System.out.printf(Locale.ROOT, "linear under autocast reads its bf16 copy, gradient to the copy: %s%n",
        ok ? "ok" : "FAILED");
    return ok && RuntimeKernels.failures().isEmpty();
  }
}
