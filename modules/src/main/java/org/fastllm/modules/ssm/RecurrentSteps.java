package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The SSM scans as their recurrences, one step per position, continuing from a kept state (zero before the first
 * call) and leaving the state after the last position in it: what a decoding step of one position needs, at a cost
 * that does not grow with the context. Several positions (a prompt) go through the chunked scans instead
 * ({@link SelectiveScan#decode}, {@link ScalarDecayScan#decode}); the tests check those against these steps.
 */
final class RecurrentSteps {
  private RecurrentSteps() {
  }

  /**
   * {@link SelectiveScan#scan}'s recurrence: {@code h = exp(delta A) h + delta u B}, {@code y = C . h}; shapes as
   * there, the state {@code [b, G, D/G, N]}.
   */
  static Tensor selective(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, KeptTensor kept) {
    long batch = u.size(0);
    long time = u.size(1);
    long channels = u.size(2);
    long state = a.size(1);
    long groups = b.size(2);
    long perGroup = channels / groups;
    Tensor h = kept.isSet() ? kept.get() : null;
    Tensor[] outputs = new Tensor[(int) time];
    for (long t = 0; t < time; t++) {
      Tensor dt = delta.select(1, t);
      Tensor decay = dt.unsqueeze(-1).mul(a).exp().reshape(batch, groups, perGroup, state);
      Tensor input = dt.mul(u.select(1, t)).reshape(batch, groups, perGroup, 1).mul(b.select(1, t).unsqueeze(2));
      h = h == null ? input : torch.addcmul(input, decay, h);
      // a product and a sum: a batched matrix-vector product of these shapes was 5 to 10 times slower on the CPU
      outputs[(int) t] = h.mul(c.select(1, t).unsqueeze(2))
          .sum(new long[] {-1}, false, new ScalarTypeOptional()).reshape(batch, 1, channels);
    }
    kept.set(h);
    return stacked(outputs);
  }

  /**
   * {@link ScalarDecayScan#scan}'s recurrence: {@code h = exp(a) h + x B^T} ({@code [P, N]} per head),
   * {@code y = h C}; shapes as there (B and C per group), the state {@code [b, H, P, N]}.
   */
  static Tensor scalarDecay(Tensor x, Tensor logDecay, Tensor b, Tensor c, KeptTensor kept) {
    long batch = x.size(0);
    long time = x.size(1);
    long heads = x.size(2);
    long headSize = x.size(3);
    long groups = b.size(2);
    long state = b.size(3);
    long perGroup = heads / groups;
    Tensor h = kept.isSet() ? kept.get().reshape(batch, groups, perGroup, headSize, state) : null;
    Tensor[] outputs = new Tensor[(int) time];
    for (long t = 0; t < time; t++) {
      Tensor bt = b.select(1, t).reshape(batch, groups, 1, 1, state);
      Tensor input = x.select(1, t).reshape(batch, groups, perGroup, headSize, 1).mul(bt);   // [b, G, R, P, N]
      if (h == null) {
        h = input;
      } else {
        Tensor decay = logDecay.select(1, t).exp().view(batch, groups, perGroup, 1, 1);
        h = torch.addcmul(input, decay, h);
      }
      outputs[(int) t] = h.mul(c.select(1, t).reshape(batch, groups, 1, 1, state))
          .sum(new long[] {-1}, false, new ScalarTypeOptional()).view(batch, 1, heads, headSize);
    }
    kept.set(h.reshape(batch, heads, headSize, state));
    return stacked(outputs);
  }

  /** The per-position outputs {@code [b, 1, ...]} along time. */
  private static Tensor stacked(Tensor[] outputs) {
    return outputs.length == 1 ? outputs[0] : torch.cat(new TensorVector(outputs), 1);
  }
}
