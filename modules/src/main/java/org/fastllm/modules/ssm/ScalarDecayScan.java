package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The state-space dual scan of Mamba 2 with one scalar decay per head and step, in chunks:
 * {@code h_t = exp(a_t) h_(t-1) + x_t B_t^T} ({@code [P, N]} per head), {@code y_t = h_t C_t}.
 *
 * <pre>{@code
 * // given Tensor x, Tensor logDecay, Tensor b, Tensor c
 * Tensor y = new ScalarDecayScan(256).scan(x, logDecay, b, c);  // [b, t, heads, P]
 * }</pre>
 *
 * <p><b>Cost grows linearly with the sequence, and every chunk is computed at once:</b> inside a chunk
 * {@code y = ((C B^T) * L) x} with {@code L[t, s] = exp(S_t - S_s)} for {@code s <= t}; the state each chunk leaves
 * from a zero start is one batched product; the states entering the chunks are those end states weighted by the
 * decays between chunks (a {@code [chunks + 1, chunks + 1]} matrix per head), and their share of the output one more
 * batched product. The number of operations does not depend on the length.
 *
 * <p>Heads come in groups that share B and C: head {@code h} of {@code H} reads group {@code h / (H / G)}. A group's
 * B and C are never copied per head; a group's heads sit side by side in the products that read them.
 *
 * @param chunk steps per chunk (the config's {@code chunk_size})
 */
public record ScalarDecayScan(int chunk) {

  public ScalarDecayScan {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk_size must be at least 1, got " + chunk);
    }
  }

  /**
   * Runs the scan from a zero state.
   *
   * @param x inputs {@code [b, t, H, P]}
   * @param logDecay {@code a_t <= 0}, {@code [b, t, H]}
   * @param b {@code [b, t, G, N]}, {@code G} dividing {@code H}
   * @param c {@code [b, t, G, N]}
   * @return {@code [b, t, H, P]}
   */
  public Tensor scan(Tensor x, Tensor logDecay, Tensor b, Tensor c) {
    return scan(x, logDecay, b, c, null)[0];
  }

  /**
   * Continues a decoded sequence from the state {@code kept} holds ({@code [b, H, P, N]}, zero before the first
   * call) and leaves the state after the last position in it: one position is one step of the recurrence, several
   * (a prompt) the chunked scan.
   */
  Tensor decode(Tensor x, Tensor logDecay, Tensor b, Tensor c, KeptTensor kept) {
    if (x.size(1) == 1) {
      return RecurrentSteps.scalarDecay(x, logDecay, b, c, kept);
    }
    Tensor[] scanned = scan(x, logDecay, b, c, kept.isSet() ? kept.get() : null);
    kept.set(scanned[1]);
    return scanned[0];
  }

  /**
   * The scan from the state {@code initial} {@code [b, H, P, N]} (null for zero): {@code {y, the state after the
   * last step [b, H, P, N]}}; shapes otherwise as in {@link #scan(Tensor, Tensor, Tensor, Tensor)}.
   */
  Tensor[] scan(Tensor x, Tensor logDecay, Tensor b, Tensor c, Tensor initial) {
    Shape s = Shape.of(x, b, chunk);
    if (s.padded() > s.time()) {
      // Steps past the end keep the state (decay exp(0) = 1, input 0); they come after every real step.
      x = padTime(x, s);
      logDecay = padTime(logDecay, s);
      b = padTime(b, s);
      c = padTime(c, s);
    }
    // S_t, the log decay summed from the chunk's start to t inclusive: [b, G, R, chunks, l]
    Tensor running = logDecay.reshape(s.batch(), s.chunks(), s.length(), s.groups(), s.perGroup())
        .permute(0, 3, 4, 1, 2).cumsum(-1);
    Tensor xs = x.reshape(s.batch(), s.chunks(), s.length(), s.groups(), s.perGroup(), s.headSize());
    Tensor bs = b.reshape(s.batch(), s.chunks(), s.length(), s.groups(), s.state()).permute(0, 3, 1, 2, 4);
    Tensor cs = c.reshape(s.batch(), s.chunks(), s.length(), s.groups(), s.state()).permute(0, 3, 1, 2, 4);

    Tensor y = inside(running, xs, bs, cs, s);                                  // [b, chunks, l, G, R, P]
    Tensor[] passed = entering(running, xs, bs, initial, s);
    if (passed[0] != null) {
      y = y.add(fromEntering(passed[0], running, cs, s));
    }
    y = y.reshape(s.batch(), s.padded(), s.groups() * s.perGroup(), s.headSize());
    return new Tensor[] {s.padded() > s.time() ? y.narrow(1, 0, s.time()) : y, passed[1]};
  }

  /** Each chunk's outputs from a zero entering state, {@code ((C B^T) * L) x}: {@code [b, chunks, l, G, R, P]}. */
  private static Tensor inside(Tensor running, Tensor xs, Tensor bs, Tensor cs, Shape s) {
    Tensor pairs = running.unsqueeze(-1).sub(running.unsqueeze(-2));                 // S_t - S_s
    Tensor decay = pairs.masked_fill(CausalPairs.future(s.length(), running),
        new Scalar(Double.NEGATIVE_INFINITY)).exp();                                 // [b, G, R, chunks, l, l]
    Tensor scores = cs.matmul(bs.transpose(-1, -2)).unsqueeze(2).mul(decay);          // one C B^T per group
    return scores.matmul(xs.permute(0, 3, 4, 1, 2, 5)).permute(0, 3, 4, 1, 2, 5);
  }

  /**
   * The state entering every chunk, {@code [b, G, R, chunks, P, N]} (null when it is zero throughout: one chunk
   * from a zero state), and the state after the last step {@code [b, H, P, N]}.
   */
  private static Tensor[] entering(Tensor running, Tensor xs, Tensor bs, Tensor initial, Shape s) {
    Tensor total = running.narrow(-1, s.length() - 1, 1);                            // S_L per chunk
    Tensor toEnd = total.sub(running).exp().permute(0, 3, 4, 1, 2).unsqueeze(-1);   // exp(S_L - S_s)
    // a group's heads side by side: one product with the group's B per chunk, [b, G, chunks, R P, N]
    Tensor ends = xs.mul(toEnd).permute(0, 3, 1, 2, 4, 5)
        .reshape(s.batch(), s.groups(), s.chunks(), s.length(), s.perGroup() * s.headSize())
        .transpose(-1, -2).matmul(bs)
        .view(s.batch(), s.groups(), s.chunks(), s.perGroup(), s.headSize() * s.state()).transpose(2, 3);
    Tensor start = initial != null
        ? initial.reshape(s.batch(), s.groups(), s.perGroup(), 1, s.headSize() * s.state()).to(ends.scalar_type())
        : torch.zeros(new long[] {s.batch(), s.groups(), s.perGroup(), 1, s.headSize() * s.state()},
            new TensorOptions(ends.scalar_type()).device(new DeviceOptional(ends.device())));
    Tensor states = torch.cat(new TensorVector(start, ends), 3);                     // [b, G, R, chunks + 1, P N]
    Tensor passed = betweenChunks(total.squeeze(-1), s).matmul(states);              // state after chunk k - 1
    Tensor last = passed.select(3, s.chunks()).reshape(s.batch(), s.groups() * s.perGroup(), s.headSize(),
        s.state());
    if (s.chunks() == 1 && initial == null) {
      return new Tensor[] {null, last};
    }
    Tensor entering = passed.narrow(3, 0, s.chunks())
        .view(s.batch(), s.groups(), s.perGroup(), s.chunks(), s.headSize(), s.state());
    return new Tensor[] {entering, last};
  }

  /**
   * {@code [b, G, R, chunks + 1, chunks + 1]}: at {@code (k, j)} the decay from the end of chunk {@code j - 1} to
   * the end of chunk {@code k - 1} ({@code j = 0}: the start), zero for {@code j > k}. Each exponent is summed over
   * its own chunks, never a difference of two long sums, so it stays exact however long the sequence.
   */
  private static Tensor betweenChunks(Tensor totals, Shape s) {
    long n = s.chunks() + 1;
    Tensor perChunk = torch.constant_pad_nd(totals, new long[] {1, 0}, new Scalar(0.0));       // [..., n]
    Tensor spans = perChunk.unsqueeze(-1).expand(new long[] {s.batch(), s.groups(), s.perGroup(), n, n})
        .masked_fill(CausalPairs.notBefore(n, totals), new Scalar(0.0)).cumsum(-2);
    return spans.masked_fill(CausalPairs.future(n, totals), new Scalar(Double.NEGATIVE_INFINITY)).exp();
  }

  /** The entering states' share of the outputs, {@code exp(S_t) h C_t}: {@code [b, chunks, l, G, R, P]}. */
  private static Tensor fromEntering(Tensor entering, Tensor running, Tensor cs, Shape s) {
    Tensor states = entering.permute(0, 1, 3, 5, 2, 4)
        .reshape(s.batch(), s.groups(), s.chunks(), s.state(), s.perGroup() * s.headSize());
    Tensor y = cs.matmul(states).view(s.batch(), s.groups(), s.chunks(), s.length(), s.perGroup(), s.headSize());
    return y.mul(running.exp().permute(0, 1, 3, 4, 2).unsqueeze(-1)).permute(0, 2, 3, 1, 4, 5);
  }

  private static Tensor padTime(Tensor t, Shape s) {
    long[] spec = new long[2 * (int) (t.dim() - 1)];
    spec[spec.length - 1] = s.padded() - s.time();
    return torch.constant_pad_nd(t, spec, new Scalar(0.0));
  }

  /** The sizes of one scan: chunks of {@code length} steps ({@code min(chunk, time)}), {@code padded} in all. */
  private record Shape(long batch, long time, long groups, long perGroup, long headSize, long state, long length,
      long chunks) {
    static Shape of(Tensor x, Tensor b, int chunk) {
      long time = x.size(1);
      long heads = x.size(2);
      long groups = b.size(2);
      if (heads % groups != 0) {
        throw new IllegalArgumentException("B and C have " + groups + " groups, which do not divide " + heads
            + " heads");
      }
      long length = Math.min(chunk, time);
      return new Shape(x.size(0), time, groups, heads / groups, x.size(3), b.size(3), length,
          (time + length - 1) / length);
    }

    long padded() {
      return chunks * length;
    }
  }
}
