package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Mamba's selective scan with a diagonal state matrix per channel, computed as a two-level parallel prefix scan:
 * {@code h_t = exp(delta_t A) h_(t-1) + delta_t B_t u_t}, {@code y_t = C_t . h_t}, for every channel {@code d} and
 * state {@code n}.
 *
 * <pre>{@code
 * // given Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c
 * Tensor y = new SelectiveScan(8).scan(u, delta, a, b, c);  // [b, t, D]
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
 * <p>On a CUDA device the same scan runs as hand-written kernels compiled at first use ({@link FusedSelectiveScan}:
 * one sequential pass per thread, a backward that recomputes states per chunk), unless {@code fused} is off, the
 * system property {@code fastllm.fusedScan} is {@code false}, or the shape is one the kernels do not take; the
 * tensor operations here are the reference the kernels are checked against.
 *
 * @param chunk steps per chunk, a power of two gives the fewest passes
 * @param fused whether a CUDA input may take the hand-written kernels
 */
public record SelectiveScan(int chunk, boolean fused) {

  /**
   * Picked from a sweep of 4, 8, 16 and 32 at width 128, length 512 on a shared, loaded 2-core CPU, where 8 and 32
   * came out ahead but within the noise; re-tune with {@code bench/layers-cpu.sh --scan-chunk N} on a quiet machine.
   */
  public static final int DEFAULT_CHUNK = 8;

  private static final FusedSelectiveScan CUDA = new FusedSelectiveScan(new CudaScanKernels());
  private static volatile boolean warned;

  public SelectiveScan {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
    }
  }

  /** The scan with the CUDA kernels allowed. */
  public SelectiveScan(int chunk) {
    this(chunk, true);
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
    if (fused && u.is_cuda() && !"false".equals(System.getProperty("fastllm.fusedScan")) && CUDA.supports(u, a, b)) {
      String unavailable = org.fastllm.modules.cuda.RuntimeKernels.availability();
      if (unavailable == null) {
        if (CUDA.ready(u, a, b)) {   // compiled for this GPU; a failure was reported once
          return CUDA.scan(u, delta, a, b, c);
        }
        return tensorScan(u, delta, a, b, c);
      }
      if (!warned) {
        warned = true;
        System.err.println("warning: the selective scan runs as tensor operations: " + unavailable);
      }
    }
    return tensorScan(u, delta, a, b, c);
  }

  /** The scan as tensor operations, on any device. */
  Tensor tensorScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
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
    local[1] = torch.addcmul(local[1], local[0], entering.unsqueeze(2));
    Tensor h = local[1].reshape(batch, padded, groups, perGroup, state);
    if (padded > time) {
      h = h.narrow(1, 0, time);
    }
    return h.mul(c.unsqueeze(3)).sum(new long[] {-1}, false, new ScalarTypeOptional()).reshape(batch, time, channels);
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
