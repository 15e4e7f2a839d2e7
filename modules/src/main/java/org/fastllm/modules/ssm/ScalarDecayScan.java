package org.fastllm.modules.ssm;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
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
 * <p><b>Cost grows linearly with the sequence:</b> inside a chunk, {@code y = ((C B^T) * L) x} with
 * {@code L[t, s] = exp(S_t - S_s)} for {@code s <= t}; between chunks a {@code [P, N]} state per head is carried.
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
   * @param b {@code [b, t, H, N]}
   * @param c {@code [b, t, H, N]}
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
    long time = x.size(1);
    Tensor xh = x.transpose(1, 2);          // [b, H, t, P]
    Tensor ah = logDecay.transpose(1, 2);   // [b, H, t]
    Tensor bh = b.transpose(1, 2);          // [b, H, t, N]
    Tensor ch = c.transpose(1, 2);
    Tensor state = initial;                 // [b, H, P, N]
    List<Tensor> outputs = new ArrayList<>();
    for (long start = 0; start < time; start += chunk) {
      long length = Math.min(chunk, time - start);
      Tensor xc = xh.narrow(2, start, length);
      Tensor bc = bh.narrow(2, start, length);
      Tensor cc = ch.narrow(2, start, length);
      Tensor running = ah.narrow(2, start, length).cumsum(2);               // [b, H, l]
      Tensor pairs = running.unsqueeze(3).sub(running.unsqueeze(2));        // S_t - S_s
      Tensor decay = pairs.masked_fill(CausalPairs.future(length, xc), new Scalar(Double.NEGATIVE_INFINITY)).exp();
      Tensor y = cc.matmul(bc.transpose(2, 3)).mul(decay).matmul(xc);       // [b, H, l, P]
      Tensor last = running.narrow(2, length - 1, 1);                       // S_L, [b, H, 1]
      Tensor toEnd = last.sub(running).exp().unsqueeze(3);                  // exp(S_L - S_s), [b, H, l, 1]
      Tensor added = xc.mul(toEnd).transpose(2, 3).matmul(bc);              // [b, H, P, N]
      if (state != null) {
        y = y.add(cc.matmul(state.transpose(2, 3)).mul(running.exp().unsqueeze(3)));
        added = added.add(state.mul(last.exp().unsqueeze(3)));
      }
      outputs.add(y);
      state = added;
    }
    Tensor all = outputs.size() == 1 ? outputs.get(0) : torch.cat(new TensorVector(outputs.toArray(new Tensor[0])), 2);
    return new Tensor[] {all.transpose(1, 2), state};
  }
}
