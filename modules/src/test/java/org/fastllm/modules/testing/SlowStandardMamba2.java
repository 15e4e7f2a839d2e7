package org.fastllm.modules.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.SsmBlockConfig;

/**
 * The standard Mamba 2 mixer written the obvious way for float64 comparison: a loop over heads, inside it a loop
 * over time steps of {@code h = exp(dt A) h + dt x B^T}, {@code y = h C + D x}; silu and the gated RMS norm by hand.
 */
public final class SlowStandardMamba2 {
  private SlowStandardMamba2() {}

  public static Tensor forward(Tensor x, Map<String, Tensor> p, SsmBlockConfig c) {
    long d = c.dInner();
    long n = c.stateSize();
    long size = c.headSize();
    long heads = d / size;
    long groups = c.nGroups();
    long bc = groups * n;
    long batch = x.size(0);
    long time = x.size(1);
    Tensor proj = SlowReference.linear(x, p, "in_proj");
    Tensor z = proj.narrow(2, 0, d);
    Tensor xbc = silu(SlowReference.conv(proj.narrow(2, d, d + 2 * bc), p, "conv1d"));
    Tensor dtRaw = proj.narrow(2, 2 * d + 2 * bc, heads);
    List<Tensor> perHead = new ArrayList<>();
    for (long head = 0; head < heads; head++) {
      long group = head / (heads / groups);
      Tensor xs = xbc.narrow(2, head * size, size);                    // [b, t, P]
      Tensor b = xbc.narrow(2, d + group * n, n);                      // [b, t, N]
      Tensor cc = xbc.narrow(2, d + bc + group * n, n);
      Tensor dt = softplus(dtRaw.select(2, head).add(p.get("dt_bias").select(0, head)));   // [b, t]
      Tensor a = p.get("A_log").select(0, head).exp().neg();
      Tensor skip = p.get("D").select(0, head);
      Tensor h = torch.zeros(new long[] {batch, size, n}, new TensorOptions(torch.ScalarType.Double));
      List<Tensor> ys = new ArrayList<>();
      for (long t = 0; t < time; t++) {
        Tensor step = dt.select(1, t).view(batch, 1, 1);
        Tensor xt = xs.select(1, t);                                   // [b, P]
        h = step.mul(a).exp().mul(h).add(step.mul(xt.unsqueeze(2)).mul(b.select(1, t).unsqueeze(1)));
        Tensor y = h.mul(cc.select(1, t).unsqueeze(1)).sum(new long[] {2}, false, new ScalarTypeOptional());
        ys.add(y.add(xt.mul(skip)));
      }
      perHead.add(SlowReference.stack(ys, 1));                         // [b, t, P]
    }
    Tensor gated = SlowReference.cat(perHead, 2).mul(silu(z));
    Tensor meanSquare = gated.mul(gated).sum(new long[] {2}, true, new ScalarTypeOptional()).div(new Scalar(d));
    Tensor normed = gated.div(meanSquare.add(new Scalar(c.normalization().epsilon())).sqrt()).mul(p.get("norm.weight"));
    return SlowReference.linear(normed, p, "out_proj");
  }

  private static Tensor silu(Tensor x) {
    return x.div(x.neg().exp().add(new Scalar(1)));
  }

  private static Tensor softplus(Tensor x) {
    return x.exp().add(new Scalar(1)).log();
  }
}
