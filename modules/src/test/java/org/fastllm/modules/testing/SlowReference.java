package org.fastllm.modules.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * The layers written the obvious way, for float64 comparison: per-head loops, masks built element by element,
 * softmax by hand, SSM recurrences stepped one time step at a time. Slow on purpose; never used outside tests.
 */
public final class SlowReference {
  private SlowReference() {}

  static Tensor linear(Tensor x, Map<String, Tensor> p, String name) {
    Tensor y = x.matmul(p.get(name + ".weight").t());
    Tensor bias = p.get(name + ".bias");
    return bias == null ? y : y.add(bias);
  }

  static Tensor cat(List<Tensor> parts, long dim) {
    return torch.cat(new TensorVector(parts.toArray(new Tensor[0])), dim);
  }

  static Tensor stack(List<Tensor> parts, long dim) {
    return torch.stack(new TensorVector(parts.toArray(new Tensor[0])), dim);
  }

  static Tensor longs(long[] values) {
    Tensor t = torch.zeros(new long[] {values.length}, new TensorOptions(torch.ScalarType.Long));
    for (int i = 0; i < values.length; i++) {
      t.narrow(0, i, 1).fill_(new Scalar(values[i]));
    }
    return t;
  }

  /** Attention with explicit per-head loops, a hand-built mask and a hand-written softmax. */
  public static Tensor attention(Tensor x, Map<String, Tensor> p, TransformerBlockConfig c) {
    int heads = c.numHeads();
    int groups = c.headGroups();
    int size = c.headSize();
    long batch = x.size(0);
    long time = x.size(1);
    int window = c.slidingWindow() ? c.windowSize() : 0;
    Tensor q = linear(x, p, "query");
    Tensor kv = linear(x, p, "key_value");
    Tensor hiddenCount = torch.zeros(new long[] {time, time}, new TensorOptions(torch.ScalarType.Long));
    for (int i = 0; i < time; i++) {
      for (int j = 0; j < time; j++) {
        boolean seen = (!c.causal() || j <= i) && (window == 0 || Math.abs(i - j) < window);
        if (!seen) {
          hiddenCount.narrow(0, i, 1).narrow(1, j, 1).fill_(new Scalar(1));
        }
      }
    }
    Tensor hidden = hiddenCount.to(torch.ScalarType.Bool);
    List<Tensor> perBatch = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      List<Tensor> perHead = new ArrayList<>();
      for (int h = 0; h < heads; h++) {
        int g = h / (heads / groups);
        Tensor qh = q.select(0, b).narrow(1, (long) h * size, size);
        Tensor kh = kv.select(0, b).narrow(1, (long) g * size, size);
        Tensor vh = kv.select(0, b).narrow(1, (long) groups * size + (long) g * size, size);
        if (c.rotary().enabled()) {
          qh = rotate(qh, c.rotary().theta());
          kh = rotate(kh, c.rotary().theta());
        }
        Tensor scores = qh.matmul(kh.t()).div(new Scalar(Math.sqrt(size)));
        scores = scores.masked_fill(hidden, new Scalar(Double.NEGATIVE_INFINITY));
        Tensor max = scores.amax(new long[] {1}, true);
        Tensor e = scores.sub(max.detach()).exp();
        Tensor probs = e.div(e.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
        perHead.add(probs.matmul(vh));
      }
      perBatch.add(cat(perHead, 1));
    }
    return linear(stack(perBatch, 0), p, "dense");
  }

  /** Rotary on one head {@code [t, size]}: channel f pairs with f + size/2, angle position * theta^(-2f/size). */
  static Tensor rotate(Tensor x, double theta) {
    long time = x.size(0);
    int size = (int) x.size(1);
    int half = size / 2;
    Tensor cos = torch.zeros(new long[] {time, half}, new TensorOptions(torch.ScalarType.Double));
    Tensor sin = torch.zeros(new long[] {time, half}, new TensorOptions(torch.ScalarType.Double));
    for (int t = 0; t < time; t++) {
      for (int f = 0; f < half; f++) {
        double angle = t * Math.pow(theta, -2.0 * f / size);
        cos.narrow(0, t, 1).narrow(1, f, 1).fill_(new Scalar(Math.cos(angle)));
        sin.narrow(0, t, 1).narrow(1, f, 1).fill_(new Scalar(Math.sin(angle)));
      }
    }
    Tensor re = x.narrow(1, 0, half);
    Tensor im = x.narrow(1, half, half);
    return cat(List.of(re.mul(cos).sub(im.mul(sin)), re.mul(sin).add(im.mul(cos))), 1);
  }

  /** Causal depthwise convolution by shifting: {@code y_t = sum_k w[k] x_(t-K+1+k)} (+ bias). */
  static Tensor conv(Tensor x, Map<String, Tensor> p, String name) {
    Tensor w = p.get(name + ".weight");
    long kernel = w.size(2);
    long time = x.size(1);
    List<Tensor> steps = new ArrayList<>();
    for (long t = 0; t < time; t++) {
      Tensor y = torch.zeros(new long[] {x.size(0), x.size(2)}, new TensorOptions(torch.ScalarType.Double));
      for (long k = 0; k < kernel; k++) {
        long source = t - (kernel - 1) + k;
        if (source >= 0) {
          y = y.add(x.select(1, source).mul(w.select(1, 0).select(1, k)));
        }
      }
      Tensor bias = p.get(name + ".bias");
      steps.add(bias == null ? y : y.add(bias));
    }
    return stack(steps, 1);
  }

  /** Mamba 1, the scan stepped over time. */
  public static Tensor mamba1(Tensor x, Map<String, Tensor> p, SsmBlockConfig c) {
    long d = c.dInner();
    long n = c.stateSize();
    long r = c.dtRank().value();
    Tensor xz = linear(x, p, "in_proj");
    Tensor u = torch.silu(conv(xz.narrow(2, 0, d), p, "conv1d"));
    Tensor z = xz.narrow(2, d, d);
    Tensor dbl = linear(u, p, "x_proj");
    Tensor delta = torch.softplus(linear(dbl.narrow(2, 0, r), p, "dt_proj"));
    Tensor b = dbl.narrow(2, r, n).unsqueeze(2).expand(x.size(0), x.size(1), d, n);
    Tensor cc = dbl.narrow(2, r + n, n).unsqueeze(2).expand(x.size(0), x.size(1), d, n);
    Tensor y = stepScan(u, delta, p.get("A_log").exp().neg(), b, cc).add(u.mul(p.get("D")));
    return linear(y.mul(torch.silu(z)), p, "out_proj");
  }

  /** Fast-LLM's Mamba 2, channels mapped to heads and groups by explicit index tables. */
  public static Tensor mamba2(Tensor x, Map<String, Tensor> p, SsmBlockConfig c) {
    long d = c.dInner();
    long xb = c.dXb();
    long n = c.stateSize();
    long heads = d / n;
    long groups = xb / n;
    long[] xSource = new long[(int) d];
    long[] bcHead = new long[(int) d];
    long[] bGroup = new long[(int) d];
    for (int ch = 0; ch < d; ch++) {
      long head = ch / n;
      long group = head / (heads / groups);
      xSource[ch] = group * n + ch % n;
      bcHead[ch] = head;
      bGroup[ch] = group;
    }
    Tensor proj = linear(x, p, "in_proj");
    Tensor z = proj.narrow(2, 0, d);
    Tensor xs = proj.narrow(2, d, xb);
    Tensor bRaw = proj.narrow(2, d + xb, xb).reshape(x.size(0), x.size(1), groups, n);
    Tensor cRaw = proj.narrow(2, d + 2 * xb, d).reshape(x.size(0), x.size(1), heads, n);
    Tensor delta = torch.softplus(linear(linear(x, p, "dt_in_proj"), p, "dt_proj"));
    Tensor u = c.repeatKvBeforeConv()
        ? torch.silu(conv(torch.index_select(xs, 2, longs(xSource)), p, "conv1d"))
        : torch.index_select(torch.silu(conv(xs, p, "conv1d")), 2, longs(xSource));
    Tensor b = torch.index_select(bRaw, 2, longs(bGroup));
    Tensor cc = torch.index_select(cRaw, 2, longs(bcHead));
    Tensor y = stepScan(u, delta, p.get("A_log").exp().neg(), b, cc).add(u.mul(p.get("D")));
    return linear(y.mul(torch.silu(z)), p, "out_proj");
  }

  /** {@code h_t = exp(delta_t A) h + delta_t u_t B_t}, {@code y_t = h_t . C_t}, one step at a time. */
  static Tensor stepScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c) {
    Tensor h = torch.zeros(new long[] {u.size(0), u.size(2), a.size(1)}, new TensorOptions(torch.ScalarType.Double));
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < u.size(1); t++) {
      Tensor dt = delta.select(1, t).unsqueeze(2);
      h = dt.mul(a).exp().mul(h).add(dt.mul(u.select(1, t).unsqueeze(2)).mul(b.select(1, t)));
      ys.add(h.mul(c.select(1, t)).sum(new long[] {2}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
    }
    return stack(ys, 1);
  }

  /** Discrete Mamba 2, per head {@code h_t = exp(-softplus(a_t)) h + x_t B_t^T}, {@code y_t = h_t C_t}, stepped. */
  public static Tensor discreteMamba2(Tensor x, Map<String, Tensor> p, SsmBlockConfig c) {
    long d = c.dInner();
    long n = c.stateSize();
    long hv = c.nVHeads();
    long g = c.nQkHeads();
    long bc = g * n;
    long headSize = d / hv;
    long batch = x.size(0);
    long time = x.size(1);
    long[] groupOf = new long[(int) hv];
    for (int h = 0; h < hv; h++) {
      groupOf[h] = h / (hv / g);
    }
    Tensor proj = linear(x, p, "in_proj");
    Tensor xbc = torch.silu(conv(proj.narrow(2, 0, d + 2 * bc), p, "conv1d"));
    Tensor z = proj.narrow(2, d + 2 * bc, d);
    Tensor a = proj.narrow(2, 2 * d + 2 * bc, hv);
    Tensor xs = xbc.narrow(2, 0, d).reshape(batch, time, hv, headSize);
    Tensor b = torch.index_select(xbc.narrow(2, d, bc).reshape(batch, time, g, n), 2, longs(groupOf));
    Tensor cc = torch.index_select(xbc.narrow(2, d + bc, bc).reshape(batch, time, g, n), 2, longs(groupOf));
    Tensor h = torch.zeros(new long[] {batch, hv, headSize, n}, new TensorOptions(torch.ScalarType.Double));
    List<Tensor> ys = new ArrayList<>();
    for (long t = 0; t < time; t++) {
      Tensor decay = torch.softplus(a.select(1, t)).neg().exp().unsqueeze(2).unsqueeze(3);
      h = decay.mul(h).add(xs.select(1, t).unsqueeze(3).mul(b.select(1, t).unsqueeze(2)));
      ys.add(h.mul(cc.select(1, t).unsqueeze(2)).sum(new long[] {3}, false, new org.bytedeco.pytorch.ScalarTypeOptional()));
    }
    Tensor y = stack(ys, 1).add(xs.mul(p.get("D").view(1, 1, hv, 1)));
    Tensor gate = p.containsKey("z_bias") ? z.add(p.get("z_bias")) : z;
    return linear(y.reshape(batch, time, d).mul(torch.silu(gate)), p, "out_proj");
  }

  /** The MLP with the activation formulas written out. */
  public static Tensor mlp(Tensor x, Map<String, Tensor> p, boolean gated, Activation activation) {
    Tensor inner = linear(x, p, "layer_1");
    Tensor hidden;
    if (gated) {
      long half = inner.size(2) / 2;
      hidden = activate(inner.narrow(2, 0, half), activation).mul(inner.narrow(2, half, half));
    } else {
      hidden = activate(inner, activation);
    }
    return linear(hidden, p, "layer_2");
  }

  static Tensor activate(Tensor x, Activation activation) {
    return switch (activation) {
      case SILU -> x.mul(x.neg().exp().add(new Scalar(1)).reciprocal());
      case GELU -> {
        // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        Tensor inner = x.add(x.pow(new Scalar(3)).mul(new Scalar(0.044715))).mul(new Scalar(Math.sqrt(2 / Math.PI)));
        yield x.mul(new Scalar(0.5)).mul(inner.tanh().add(new Scalar(1)));
      }
      case RELU -> x.clamp_min(new Scalar(0));
      case SQUARED_RELU -> x.clamp_min(new Scalar(0)).pow(new Scalar(2));
    };
  }
}
