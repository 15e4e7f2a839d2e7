package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.layer.LayerContext;

/**
 * Mamba's selective scan with a diagonal state matrix per channel, computed as a two-level parallel prefix scan:
 * {@code h_t = exp(delta_t A) h_(t-1) + delta_t B_t u_t}, {@code y_t = C_t . h_t}, for every channel {@code d} and
 * state {@code n}.
 *
 * <pre>{@code
 * // given Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, LayerContext context
 * Tensor y = SelectiveScan.of(8, context).scan(u, delta, a, b, c);  // [b, t, D]
 * }</pre>
 *
 * <p><b>Cost grows linearly with the sequence and no Java loop runs over time steps:</b> the steps
 * {@code h -> g h + x} compose as {@code (g1, x1) then (g2, x2) = (g2 g1, g2 x1 + x2)}, so inside every chunk of
 * {@code L} steps at once the scan takes {@code log2 L} doubling passes over {@code [b, t, D, N]} (Hillis-Steele);
 * the chunks' end states are scanned the same way over {@code t / L} chunks, and each chunk then adds its entering
 * state times its running decay. Only products of decays in {@code (0, 1]} are ever formed (no {@code exp} of a
 * positive number, no division), so it is stable in float32 however large {@code delta A} gets. Work is
 * {@code O(t log2(L) D N)}.
 *
 * <p>With {@code training.kernels.scan} on or auto, on a CUDA device the same scan runs as hand-written kernels
 * compiled at first use ({@link FusedSelectiveScan}: one sequential pass per thread, a backward that recomputes
 * states per chunk), unless the shape is one the kernels do not take; the tensor operations here are the reference
 * the kernels are checked against.
 */
public final class SelectiveScan {

  /**
   * Picked from a sweep of 4, 8, 16 and 32 at width 128, length 512 on a shared, loaded 2-core CPU, where 8 and 32
   * came out ahead but within the noise; re-tune with {@code bench/layers-cpu.sh --scan-chunk N} on a quiet machine.
   */
  public static final int DEFAULT_CHUNK = 8;

  private final int chunk;
  private final KernelFeature feature;
  private final FusedSelectiveScan fused;
  private final SkipGate gate;

  private SelectiveScan(int chunk, KernelFeature feature, FusedSelectiveScan fused, SkipGate gate) {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
    }
    this.chunk = chunk;
    this.feature = feature;
    this.fused = fused;
    this.gate = gate;
  }

  /**
   * The scan of a model built with {@code context}, {@code chunk} steps per chunk of the tensor operations (a power
   * of two gives the fewest passes), the kernels as {@code training.kernels.scan} and {@code scan_segments} say.
   */
  public static SelectiveScan of(int chunk, LayerContext context) {
    KernelFeature feature = context.feature(KernelKey.SCAN);
    ScanKernels kernels = context.implementation(ScanKernels.class,
        () -> new CudaScanKernels(context.kernels().scanSegments()));
    return new SelectiveScan(chunk, feature, new FusedSelectiveScan(kernels, feature),
        new SkipGate(feature, context.implementation(GateKernels.class, CudaGateKernels::new)));
  }

  /** The scan as tensor operations only, on any device (the reference benchmarks and checks compare against). */
  public static SelectiveScan tensorOperations(int chunk) {
    return new SelectiveScan(chunk, null, null, SkipGate.tensorOperations());
  }

  /** Steps per chunk of the tensor operations. */
  public int chunk() {
    return chunk;
  }

  /**
   * Runs the scan from a zero state.
   *
   * @param u input {@code [b, t, D]}
   * @param delta positive step sizes {@code [b, t, D]}
   * @param a the (negative) state matrix diagonal {@code [D, N]}
   * @param b input projections {@code [b, t, G, N]}, {@code G} dividing {@code D}: channel {@code d} reads group
   *     {@code d / (D / G)} (mamba1 has one group, mamba2 one per head)
   * @param c output projections {@code [b, t, G, N]}, grouped as {@code b}
   * @return {@code [b, t, D]}, without the {@code D u} skip term
   */
  public Tensor scan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    if (fused != null && feature.runs(() -> fused.unavailable(u, a, b))) {
      return fused.scan(u, delta, a, b, c);
    }
    return tensorScan(u, delta, a, b, c);
  }

  /**
   * The mixers' D skip and silu(z) gate after the scan, {@code (y + D u) silu(z)}: one kernel each way where the
   * scan's kernels are chosen and the tensors are as bf16 autocast leaves them, else tensor operations
   * ({@link SkipGate}).
   *
   * @param y the scan's output {@code [b, t, D]}
   * @param u its input {@code [b, t, D]}
   * @param skip {@code D} {@code [D]}
   * @param z the gate's input {@code [b, t, D]}
   */
  public Tensor gate(Tensor y, Tensor u, Tensor skip, Tensor z) {
    return gate.apply(y, u, skip, z);
  }

  /**
   * Continues a decoded sequence from the state {@code kept} holds ({@code [b, G, D/G, N]}, zero before the first
   * call) and leaves the state after the last position in it: one position is one step of the recurrence; several
   * from a zero state (a prompt) go through the kernels where {@link #scan} would; several from a kept state go
   * through the chunked tensor-operation scan, also on CUDA, since the kernels start from a zero state.
   */
  Tensor decode(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, KeptTensor kept) {
    if (u.size(1) == 1) {
      return RecurrentSteps.selective(u, delta, a, b, c, kept);
    }
    boolean fromZero = !kept.isSet();
    Tensor[] scanned = fromZero && fused != null && feature.runs(() -> fused.unavailable(u, a, b))
        ? fused.decode(u, delta, a, b, c)
        : tensorScan(u, delta, a, b, c, fromZero ? null : kept.get());
    long perGroup = u.size(2) / b.size(2);
    kept.set(scanned[1].reshape(u.size(0), b.size(2), perGroup, a.size(1)));
    return scanned[0];
  }

  /** The scan as tensor operations, on any device. */
  Tensor tensorScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    return tensorScan(u, delta, a, b, c, null)[0];
  }

  /**
   * The scan as tensor operations from the state {@code initial} ({@code [b, D, N]} or any shape of those
   * elements; null for zero): {@code {y, the state after the last step [b, D, N]}}.
   */
  Tensor[] tensorScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor initial) {
    long batch = u.size(0);
    long time = u.size(1);
    long channels = u.size(2);
    long state = a.size(1);
    long groups = b.size(2);
    long perGroup = channels / groups;
    long length = Math.min(chunk, time);
    long chunks = (time + length - 1) / length;
    long padded = chunks * length;

    // [b, t, G, P, N]: the decay exp(delta A) and the input delta u B of every step, channel and state.
    Tensor decay = delta.unsqueeze(-1).mul(a).exp().reshape(batch, time, groups, perGroup, state);
    Tensor input = delta.mul(u).reshape(batch, time, groups, perGroup, 1).mul(b.unsqueeze(3));
    if (padded > time) {
      // Steps past the end keep the state (decay 1, input 0); they come after every real step, so change none.
      decay = torch.constant_pad_nd(decay, pad(5, 1, 0, padded - time), new Scalar(1.0));
      input = torch.constant_pad_nd(input, pad(5, 1, 0, padded - time), new Scalar(0.0));
    }
    decay = decay.reshape(batch, chunks, length, channels, state);
    input = input.reshape(batch, chunks, length, channels, state);
    Tensor[] local = prefixScan(decay, input, 2);     // per chunk from a zero state: h = decay * h_in + local
    // Also with one chunk, whose entering state is zero: the decays then still reach the graph, so A gets a
    // (zero) gradient for a one-step sequence instead of none.
    Tensor[] ends = prefixScan(local[0].select(2, length - 1), local[1].select(2, length - 1), 1);
    Tensor entering = shifted(ends[1], 1, 1, 0.0);    // the state before each chunk, [b, chunks, D, N]
    if (initial != null) {
      // the initial state reaches each chunk times the decays of the chunks before it
      Tensor decayBefore = shifted(ends[0], 1, 1, 1.0);
      entering = torch.addcmul(entering, decayBefore, initial.reshape(batch, 1, channels, state));
    }
    local[1] = torch.addcmul(local[1], local[0], entering.unsqueeze(2));
    Tensor last = local[1].select(1, chunks - 1).select(1, length - 1);   // padded steps keep the state
    Tensor h = local[1].reshape(batch, padded, groups, perGroup, state);
    if (padded > time) {
      h = h.narrow(1, 0, time);
    }
    Tensor y = h.mul(c.unsqueeze(3)).sum(new long[] {-1}, false, new ScalarTypeOptional());
    return new Tensor[] {y.reshape(batch, time, channels), last};
  }

  /**
   * Inclusive scan of {@code h -> decay h + input} along {@code dim} from a zero state: returns the running decay
   * products and the running states, by doubling (each pass composes every step with the one {@code k} back).
   */
  static Tensor[] prefixScan(Tensor decay, Tensor input, long dim) {
    long size = decay.size(dim);
    for (long k = 1; k < size; k *= 2) {
      input = torch.addcmul(input, decay, shifted(input, k, dim, 0.0));
      decay = decay.mul(shifted(decay, k, dim, 1.0));
    }
    return new Tensor[] {decay, input};
  }

  /** {@code t} moved {@code k < size} steps later along {@code dim}, the first {@code k} filled with {@code fill}. */
  static Tensor shifted(Tensor t, long k, long dim, double fill) {
    long size = t.size(dim);
    return torch.constant_pad_nd(t.narrow(dim, 0, size - k), pad(t.dim(), dim, k, 0), new Scalar(fill));
  }

  /** The {@code constant_pad_nd} spec that pads {@code dim} of a rank-{@code rank} tensor by (before, after). */
  private static long[] pad(long rank, long dim, long before, long after) {
    long[] spec = new long[(int) (2 * (rank - dim))];
    spec[spec.length - 2] = before;
    spec[spec.length - 1] = after;
    return spec;
  }
}
