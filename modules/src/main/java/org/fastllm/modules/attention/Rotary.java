package org.fastllm.modules.attention;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Rotary position embedding in Fast-LLM's real layout: the head's first half holds the real parts and the second
 * half the imaginary parts; channel pair {@code f} turns by {@code position * theta^(-2f/head_size)}.
 *
 * <pre>{@code Tensor q2 = new Rotary(10000).apply(q);  // q: [b, heads, t, head_size]}</pre>
 *
 * <p>The cosine and sine tables are computed once per theta, head size, type and device (in double, then cast, so
 * float32 runs lose no precision at long positions) and kept for the process, grown when a longer sequence comes:
 * a step then spends its kernels on the rotation only.
 */
public record Rotary(double theta) {
  private static final Map<String, Tensor[]> TABLES = new ConcurrentHashMap<>();

  /** Rotates queries or keys laid out {@code [b, heads, t, head_size]}; head_size must be even. */
  public Tensor apply(Tensor x) {
    long time = x.size(2);
    long half = x.size(3) / 2;
    Tensor[] table = tables(time, x);
    Tensor cos = table[0].narrow(0, 0, time);
    Tensor sin = table[1].narrow(0, 0, time);
    Tensor re = x.narrow(3, 0, half);
    Tensor im = x.narrow(3, half, half);
    Tensor newRe = re.mul(cos).sub(im.mul(sin));
    Tensor newIm = re.mul(sin).add(im.mul(cos));
    return torch.cat(new org.bytedeco.pytorch.TensorVector(newRe, newIm), 3);
  }

  /** The cached {@code [t', head_size / 2]} cosines and sines for {@code t' >= time} positions. */
  private Tensor[] tables(long time, Tensor x) {
    String key = theta + "/" + x.size(3) + "/" + x.scalar_type().intern() + "/" + x.device().str().getString();
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
      return compute(time, x);
    });
  }

  private Tensor[] compute(long time, Tensor x) {
    long size = x.size(3);
    long half = size / 2;
    try (PointerScope scope = new PointerScope()) {
      TensorOptions doubles = new TensorOptions(torch.ScalarType.Double).device(new DeviceOptional(x.device()));
      Tensor positions = torch.arange(new Scalar(time), doubles).unsqueeze(1);
      Tensor frequencies = torch.arange(new Scalar(half), doubles)
          .mul(new Scalar(-2.0 * Math.log(theta) / size)).exp().unsqueeze(0);
      Tensor angles = positions.mul(frequencies);
      Tensor[] table = {angles.cos().to(x.scalar_type()), angles.sin().to(x.scalar_type())};
      for (Tensor t : table) {
        t.retainReference();   // kept for the process: out of this scope and any step's
        scope.detach(t);
      }
      return table;
    }
  }
}
