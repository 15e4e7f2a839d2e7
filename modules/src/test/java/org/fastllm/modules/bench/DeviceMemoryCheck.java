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
import org.fastllm.modules.autograd.ExternalBackward;
import org.fastllm.modules.loss.CrossEntropy;

/**
 * Device check, not a unit test (it needs a GPU): CUDA memory held after each of 20 steps of a hand-written kernel's
 * forward and backward (the cross-entropy at 8192 x 50304 bf16, the rotary at a 1B model's query shape), each step in
 * its own pointer scope, as training runs them. Flat means nothing of a step outlives it; exits 1 if the memory in use
 * grows by more than one step's tensors.
 *
 * <pre>{@code run-gpu.sh org.fastllm.modules.bench.DeviceMemoryCheck}</pre>
 */
public final class DeviceMemoryCheck {
  private DeviceMemoryCheck() {}

  public static void main(String[] args) {
    TensorOptions bf16 = new TensorOptions(torch.ScalarType.BFloat16).device(new DeviceOptional(
        new org.bytedeco.pytorch.Device("cuda:0")));
    boolean ok = true;
    Tensor logits = torch.randn(new long[] {8192, 50304}, bf16);
    Tensor ids = torch.randint(50304, new long[] {8192}, new TensorOptions(torch.ScalarType.Long)
        .device(new DeviceOptional(logits.device())));
    ok &= flat("cross-entropy", () -> {
      Tensor x = logits.detach().set_requires_grad(true);
      Tensor loss = CrossEntropy.mean(x, ids);
      loss.backward();
      return x.grad();
    });
    Tensor queries = torch.randn(new long[] {4, 2048, 16, 128}, bf16);
    Rotary rotary = new Rotary(10000.0);
    ok &= flat("rotary", () -> {
      Tensor x = queries.detach().set_requires_grad(true);
      rotary.apply(x.transpose(1, 2)).mul(new Scalar(2.0)).sum().backward();
      return x.grad();
    });
    System.out.println(ok ? "device memory check: flat" : "device memory check: GROWS");
    System.exit(ok ? 0 : 1);
  }

  private static boolean flat(String name, java.util.function.Supplier<Tensor> step) {
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
        ExternalBackward.pending(), ok ? "flat" : "GROWS");
    return ok;
  }

  private static long allocated() {
    return torch_cuda.getDeviceAllocator(torch.DeviceType.CUDA).getDeviceStats((byte) 0).allocated_bytes().current();
  }
}
