package org.fastllm.modules.attention;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.RowPositions;

/**
 * Rotary position embedding in Fast-LLM's real layout: the head's first half holds the real parts and the second
 * half the imaginary parts; channel pair {@code f} turns by {@code position * theta^(-2f/head_size)}.
 *
 * <pre>{@code
 * // given Tensor q, LayerContext context
 * Tensor q2 = new Rotary(10000, context).apply(q);  // q: [b, heads, t, head_size]
 * }</pre>
 *
 * <p>The cosine and sine tables are computed once per theta, head size, type and device (in double, then cast, so
 * float32 runs lose no precision at long positions) and kept for the process, grown when a longer sequence comes:
 * a step then spends its kernels on the rotation only.
 *
 * <p>With {@code training.kernels.rotary} on or auto, on a CUDA device, for float32 and bfloat16, the rotation and
 * its backward are one kernel each ({@code rotary.cu}, compiled at first use) reading the input through its
 * strides, instead of the eight operations below and their backward.
 */
public final class Rotary {
  private static final Map<String, Tensor[]> TABLES = new ConcurrentHashMap<>();
  private final double theta;
  private final KernelFeature feature;
  private final RotaryKernels kernels;

  /** The rotation of a model built with {@code context}, by angles of base {@code theta}. */
  public Rotary(double theta, LayerContext context) {
    this.theta = theta;
    this.feature = context.feature(KernelKey.ROTARY);
    this.kernels = context.implementation(RotaryKernels.class, CudaRotaryKernels::new);
  }

  /** Rotates queries or keys laid out {@code [b, heads, t, head_size]}; head_size must be even. */
  public Tensor apply(Tensor x) {
    return apply(x, 0);
  }

  /**
   * Rotates queries or keys {@code [b, heads, t, head_size]} that stand at positions {@code offset} to
   * {@code offset + t - 1} of their sequence: a decoding step continuing after {@code offset} positions.
   */
  public Tensor apply(Tensor x, long offset) {
    return feature.runs(() -> kernels.unavailable(x)) ? fused(x, offset) : rotate(x, offset);
  }

  /**
   * Rotates queries or keys {@code [b, heads, t, head_size]} whose row {@code r} stands at positions
   * {@code at.seen(r)} to {@code at.seen(r) + t - 1}: a decoding step of a batch of sequences of different lengths.
   */
  public Tensor apply(Tensor x, RowPositions at) {
    if (at.uniform()) {
      return apply(x, at.seen(0));
    }
    long batch = x.size(0);
    long time = x.size(2);
    long half = x.size(3) / 2;
    Tensor[] table = tables(at.most() + time, x.size(3), x.scalar_type(), x);
    Tensor rows = at.of(time, x.device()).flatten();
    Tensor cos = table[0].index_select(0, rows).view(batch, 1, time, half);
    Tensor sin = table[1].index_select(0, rows).view(batch, 1, time, half);
    return turned(x, cos, sin);
  }

  /**
   * Rotates queries or keys {@code [b, heads, 1, head_size]} standing at the position {@code position} holds
   * ({@code long [1]}, on their device), read on the device: one step that, recorded, decodes any position below
   * {@code limit}. {@code kept} holds the cosine and sine tables read, made at the first call, for as long as a
   * recorded step may read them.
   */
  Tensor apply(Tensor x, Tensor position, long limit, KeptTensor[] kept) {
    boolean fused = feature.runs(() -> kernels.unavailable(x));
    if (!kept[0].isSet()) {
      Tensor[] table = tables(limit, x.size(3), fused ? torch.ScalarType.Float : x.scalar_type(), x);
      kept[0].set(table[0]);
      kept[1].set(table[1]);
    }
    Tensor cos = kept[0].get().index_select(0, position);
    Tensor sin = kept[1].get().index_select(0, position);
    if (!fused) {
      return turned(x, cos, sin);
    }
    try (NoGradGuard noGrad = new NoGradGuard()) {
      return turn(x, new Tensor[] {cos, sin}, 1.0f);
    }
  }

  /** The rotation as tensor operations, on any device and type. */
  Tensor rotate(Tensor x) {
    return rotate(x, 0);
  }

  private Tensor rotate(Tensor x, long offset) {
    long time = x.size(2);
    Tensor[] table = tables(offset + time, x.size(3), x.scalar_type(), x);
    Tensor cos = table[0].narrow(0, offset, time);
    Tensor sin = table[1].narrow(0, offset, time);
    return turned(x, cos, sin);
  }

  /** {@code x} turned by the angles whose cosines and sines are {@code cos} and {@code sin}, broadcast to it. */
  private static Tensor turned(Tensor x, Tensor cos, Tensor sin) {
    long half = x.size(3) / 2;
    Tensor re = x.narrow(3, 0, half);
    Tensor im = x.narrow(3, half, half);
    Tensor newRe = re.mul(cos).sub(im.mul(sin));
    Tensor newIm = re.mul(sin).add(im.mul(cos));
    return torch.cat(new TensorVector(newRe, newIm), 3);
  }

  private Tensor fused(Tensor x, long offset) {
    Tensor[] whole = tables(offset + x.size(2), x.size(3), torch.ScalarType.Float, x);
    // the kernel reads row t of the tables for position t of x: rows from offset on, through the data pointer
    Tensor[] table = offset == 0 ? whole
        : new Tensor[] {whole[0].narrow(0, offset, x.size(2)), whole[1].narrow(0, offset, x.size(2))};
    Tensor out;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      out = turn(x, table, 1.0f);
    }
    // the tables are saved: a longer sequence before this backward replaces them in the cache
    return feature.attach(out, List.of(x), List.of(table[0], table[1]), dy -> new Tensor[] {turn(dy, table, -1.0f)});
  }

  /** {@code x} turned by {@code sign} times each angle, into a new contiguous tensor of its shape and type. */
  private Tensor turn(Tensor x, Tensor[] table, float sign) {
    Tensor out = KernelFeature.emptyLike(x);
    kernels.turn(x, out, table[0], table[1], sign);
    return out;
  }

  /** The cached {@code [t', head_size / 2]} cosines and sines for {@code t' >= time} positions. */
  private Tensor[] tables(long time, long size, torch.ScalarType type, Tensor x) {
    // the device by its type and index: its name would cost a native string per call
    Device device = x.device();
    String key = theta + "/" + size + "/" + type.intern() + "/" + device.type().intern() + ":" + device.index();
    Tensor[] known = TABLES.get(key);
    if (known != null && known[0].size(0) >= time) {
      return known;
    }
    return TABLES.compute(key, (k, old) -> {
      if (old != null && old[0].size(0) >= time) {
        return old;
      }
      // doubled at least, so that decoding one position at a time recomputes them a logarithmic number of times
      long length = old == null ? time : Math.max(time, 2 * old[0].size(0));
      if (old != null) {   // graphs that still use the shorter tables hold references of their own
        old[0].close();
        old[1].close();
      }
      return compute(length, size, type, x);
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
