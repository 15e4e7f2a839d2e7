package org.fastllm.modules.ssm;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Mamba's selective scan with a diagonal state matrix per channel, computed chunk by chunk:
 * {@code h_t = exp(delta_t A) h_(t-1) + delta_t B_t u_t}, {@code y_t = C_t . h_t}, for every channel {@code d} and
 * state {@code n}.
 *
 * <pre>{@code Tensor y = new SelectiveScan(16).scan(u, delta, a, b, c);  // [b, t, D]}</pre>
 *
 * <p><b>Cost grows linearly with the sequence:</b> inside a chunk of {@code L} steps the recurrence is unrolled in
 * matrix form with pairwise decays {@code exp(S_t - S_s)} ({@code S} the running sum of {@code delta A}), which
 * only ever takes {@code exp} of non-positive numbers, so it is stable in float32; the state is carried from chunk
 * to chunk. Work is {@code O(t * L * D * N)}.
 *
 * @param chunk steps per chunk; memory per chunk is {@code b * L^2 * D * N}
 */
public record SelectiveScan(int chunk) {

  public static final int DEFAULT_CHUNK = 16;

  public SelectiveScan {
    if (chunk < 1) {
      throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
    }
  }

  /**
   * Runs the scan from a zero state.
   *
   * @param u input {@code [b, t, D]}
   * @param delta positive step sizes {@code [b, t, D]}
   * @param a the (negative) state matrix diagonal {@code [D, N]}
   * @param b input projections {@code [b, t, D or 1, N]}
   * @param c output projections {@code [b, t, D or 1, N]}
   * @return {@code [b, t, D]}, without the {@code D u} skip term
   */
  public Tensor scan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    long time = u.size(1);
    Tensor state = null;
    List<Tensor> outputs = new ArrayList<>();
    for (long start = 0; start < time; start += chunk) {
      long length = Math.min(chunk, time - start);
      Tensor uc = u.narrow(1, start, length);
      Tensor dc = delta.narrow(1, start, length);
      Tensor logDecay = dc.unsqueeze(-1).mul(a);                      // [b, l, D, N]
      Tensor running = logDecay.cumsum(1);                            // S_t
      Tensor pairs = running.unsqueeze(2).sub(running.unsqueeze(1));  // [b, t, s, D, N] = S_t - S_s
      Tensor future = CausalPairs.future(length).view(1, length, length, 1, 1);
      Tensor weights = pairs.masked_fill(future, new Scalar(Double.NEGATIVE_INFINITY)).exp();
      Tensor inputs = dc.mul(uc).unsqueeze(-1).mul(b.narrow(1, start, length));  // delta_s u_s B_s, [b, s, D, N]
      Tensor states = weights.mul(inputs.unsqueeze(1)).sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
      if (state != null) {
        states = states.add(running.exp().mul(state.unsqueeze(1)));
      }
      outputs.add(states.mul(c.narrow(1, start, length)).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
      state = states.select(1, length - 1);
    }
    return outputs.size() == 1 ? outputs.get(0) : torch.cat(new TensorVector(outputs.toArray(new Tensor[0])), 1);
  }
}
