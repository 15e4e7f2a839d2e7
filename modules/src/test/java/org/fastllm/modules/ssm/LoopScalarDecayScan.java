package org.fastllm.modules.ssm;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * {@link ScalarDecayScan}'s earlier form, kept as a baseline for the tests and the benchmark: B and C repeated for
 * every head, then one chunk after the other (about fifteen operations a chunk, the state carried between them).
 *
 * <pre>{@code
 * // given Tensor x, Tensor logDecay, Tensor b, Tensor c
 * Tensor[] yAndLast = new LoopScalarDecayScan(64).scan(x, logDecay, b, c, null);
 * }</pre>
 *
 * @param chunk steps per chunk
 */
public record LoopScalarDecayScan(int chunk) {

  /** As {@link ScalarDecayScan#scan(Tensor, Tensor, Tensor, Tensor)}. */
  public Tensor scan(Tensor x, Tensor logDecay, Tensor b, Tensor c) {
    return scan(x, logDecay, b, c, null)[0];
  }

  /** As {@link ScalarDecayScan}'s scan from a state: {@code {y, the state after the last step}}. */
  public Tensor[] scan(Tensor x, Tensor logDecay, Tensor b, Tensor c, Tensor initial) {
    long time = x.size(1);
    long perGroup = x.size(2) / b.size(2);
    Tensor xh = x.transpose(1, 2);          // [b, H, t, P]
    Tensor ah = logDecay.transpose(1, 2);   // [b, H, t]
    Tensor bh = perHead(b, perGroup).transpose(1, 2);          // [b, H, t, N]
    Tensor ch = perHead(c, perGroup).transpose(1, 2);
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

  private static Tensor perHead(Tensor t, long perGroup) {
    return perGroup == 1 ? t : t.repeat_interleave(perGroup, new LongOptional(2), new LongOptional());
  }
}
