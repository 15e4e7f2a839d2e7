package org.fastllm.modules.attention;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.autograd.ExternalBackward;
import org.fastllm.modules.cuda.RuntimeKernels;

/**
 * Rotary position embedding in Fast-LLM's real layout: the head's first half holds the real parts and the second
 * half the imaginary parts; channel pair {@code f} turns by {@code position * theta^(-2f/head_size)}.
 *
 * <pre>{@code
 * // given Tensor q
 * Tensor q2 = new Rotary(10000).apply(q);  // q: [b, heads, t, head_size]
 * }</pre>
 *
 * <p>The cosine and sine tables are computed once per theta, head size, type and device (in double, then cast, so
 * float32 runs lose no precision at long positions) and kept for the process, grown when a longer sequence comes:
 * a step then spends its kernels on the rotation only.
 *
 * <p>On a CUDA device, for float32 and bfloat16, the rotation and its backward are one kernel each
 * ({@code rotary.cu}, compiled at first use) reading the input through its strides, instead of the eight
 * operations below and their backward; the system property {@code fastllm.fusedRotary=false} turns that off.
 */
public record Rotary(double theta) {
  private static final Map<String, Tensor[]> TABLES = new ConcurrentHashMap<>();
  private static final String KERNEL = "org/fastllm/modules/attention/rotary.cu";
  private static final int THREADS = 256;

  /** Rotates queries or keys laid out {@code [b, heads, t, head_size]}; head_size must be even. */
  public Tensor apply(Tensor x) {
    Optional<RuntimeKernels.Module> kernel = kernel(x);
    return kernel.isPresent() ? fused(x, kernel.get()) : rotate(x);
  }

  /** The rotation as tensor operations, on any device and type. */
  Tensor rotate(Tensor x) {
    long time = x.size(2);
    long half = x.size(3) / 2;
    Tensor[] table = tables(time, x.size(3), x.scalar_type(), x);
    Tensor cos = table[0].narrow(0, 0, time);
    Tensor sin = table[1].narrow(0, 0, time);
    Tensor re = x.narrow(3, 0, half);
    Tensor im = x.narrow(3, half, half);
    Tensor newRe = re.mul(cos).sub(im.mul(sin));
    Tensor newIm = re.mul(sin).add(im.mul(cos));
    return torch.cat(new org.bytedeco.pytorch.TensorVector(newRe, newIm), 3);
  }

  /** The compiled kernel for {@code x}, or empty where the tensor operations run. */
  private static Optional<RuntimeKernels.Module> kernel(Tensor x) {
    if (!x.is_cuda() || "false".equals(System.getProperty("fastllm.fusedRotary"))) {
      return Optional.empty();
    }
    torch.ScalarType type = x.scalar_type().intern();
    if ((type != torch.ScalarType.Float && type != torch.ScalarType.BFloat16) || x.numel() / 2 >= Integer.MAX_VALUE
        || RuntimeKernels.availability() != null) {
      return Optional.empty();
    }
    return RuntimeKernels.tryCompile(KERNEL, x.device().index(),
        Map.of("BF16", type == torch.ScalarType.BFloat16 ? 1 : 0));
  }

  private Tensor fused(Tensor x, RuntimeKernels.Module module) {
    long time = x.size(2);
    long size = x.size(3);
    Tensor[] table = tables(time, size, torch.ScalarType.Float, x);
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      out = turn(module, x, table, 1.0f);
    }
    // the tables are saved: a longer sequence before this backward replaces them in the cache
    return ExternalBackward.attach(out, List.of(x), List.of(table[0], table[1]),
        dy -> new Tensor[] {turn(module, dy, table, -1.0f)});
  }

  /** {@code x} turned by {@code sign} times each angle, into a new contiguous tensor of its shape and type. */
  private static Tensor turn(RuntimeKernels.Module module, Tensor x, Tensor[] table, float sign) {
    Tensor out = torch.empty(x.sizes().vec().get(), new TensorOptions(x.scalar_type()).device(
        new DeviceOptional(x.device())), new MemoryFormatOptional());
    long pairs = x.numel() / 2;
    if (pairs == 0) {
      return out;
    }
    module.launch("rotary", RuntimeKernels.grid((pairs + THREADS - 1) / THREADS, 1), THREADS, 0,
        x, out, table[0], table[1], (int) x.size(1), (int) x.size(2), (int) x.size(3),
        x.stride(0), x.stride(1), x.stride(2), x.stride(3), (int) pairs, sign);
    return out;
  }

  /** The cached {@code [t', head_size / 2]} cosines and sines for {@code t' >= time} positions. */
  private Tensor[] tables(long time, long size, torch.ScalarType type, Tensor x) {
    String key = theta + "/" + size + "/" + type.intern() + "/" + x.device().str().getString();
    Tensor[] known = TABLES.get(key);
    if (known != null && known[0].size(0) >= time) {
      return known;
    }
    return TABLES.compute(key, (k, old) -> {
      if (old != null && old[0].size(0) >= time) {
        return old;
      }
      if (old != null) {   // graphs that still use the shorter tables hold references of their own
        old[0].close();
        old[1].close();
      }
      return compute(time, size, type, x);
    });
  }

  private Tensor[] compute(long time, long size, torch.ScalarType type, Tensor x) {
    long half = size / 2;
    try (PointerScope scope = new PointerScope()) {
      TensorOptions doubles = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(x.device()));
      Tensor positions = torch.arange(new Scalar(time), doubles).unsqueeze(1);
      Tensor frequencies = torch.arange(new Scalar(half), doubles)
          .mul(new Scalar(-2.0 * Math.log(theta) / size)).exp().unsqueeze(0);
      Tensor angles = positions.mul(frequencies);
      Tensor[] table = {angles.cos().to(type), angles.sin().to(type)};
      for (Tensor t : table) {
        t.retainReference();   // kept for the process: out of this scope and any step's
        scope.detach(t);
      }
      return table;
    }
  }
}
