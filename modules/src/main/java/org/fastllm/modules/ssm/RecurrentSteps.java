package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.KeptTensor;

/**
 * The SSM scans as their recurrences, one step per position, continuing from a kept state (zero before the first
 * call) and leaving the state after the last position in it: what decoding needs, at a cost per position that does
 * not grow with the context.
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
    Tensor h = kept.isSet() ? kept.get()
        : delta.select(1, 0).unsqueeze(-1).mul(a).mul(new Scalar(0.0)).reshape(batch, groups, perGroup, state);
    Tensor[] outputs = new Tensor[(int) time];
    for (long t = 0; t < time; t++) {
      Tensor dt = delta.select(1, t);
      Tensor decay = dt.unsqueeze(-1).mul(a).exp().reshape(batch, groups, perGroup, state);
      Tensor input = dt.mul(u.select(1, t)).reshape(batch, groups, perGroup, 1).mul(b.select(1, t).unsqueeze(2));
      h = torch.addcmul(input, decay, h);
      outputs[(int) t] = h.mul(c.select(1, t).unsqueeze(2))
          .sum(new long[] {-1}, false, new ScalarTypeOptional()).reshape(batch, channels);
    }
    kept.set(h);
    return torch.stack(new TensorVector(outputs), 1);
  }

  /**
   * {@link ScalarDecayScan#scan}'s recurrence: {@code h = exp(a) h + x B^T} ({@code [P, N]} per head),
   * {@code y = h C}; shapes as there, the state {@code [b, H, P, N]}.
   */
  static Tensor scalarDecay(Tensor x, Tensor logDecay, Tensor b, Tensor c, KeptTensor kept) {
    long time = x.size(1);
    Tensor h = kept.isSet() ? kept.get()
        : x.select(1, 0).unsqueeze(-1).mul(b.select(1, 0).unsqueeze(2)).mul(new Scalar(0.0));
    Tensor[] outputs = new Tensor[(int) time];
    for (long t = 0; t < time; t++) {
      Tensor decay = logDecay.select(1, t).exp().unsqueeze(-1).unsqueeze(-1);          // [b, H, 1, 1]
      Tensor input = x.select(1, t).unsqueeze(-1).mul(b.select(1, t).unsqueeze(2));    // [b, H, P, N]
      h = torch.addcmul(input, decay, h);
      outputs[(int) t] = h.matmul(c.select(1, t).unsqueeze(-1)).squeeze(-1);           // [b, H, P]
    }
    kept.set(h);
    return torch.stack(new TensorVector(outputs), 1);
  }
}
