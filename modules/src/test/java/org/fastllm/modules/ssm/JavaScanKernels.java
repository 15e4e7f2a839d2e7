package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.kernel.KernelImplementations;

/**
 * The CUDA kernels of {@code selective_scan.cu} written out as plain loops over CPU tensors, step for step the
 * same algorithm (entering states per chunk, recompute, the adjoint run back through each chunk, sums over a
 * group's channels, the forward's and the backward's segments with their carried states and decay products), so the
 * kernels' maths and their autograd wiring are checked on any machine. It recomputes a chunk's states in one go
 * where the kernel goes span by span from recomputed span borders: the same operations on the same values.
 */
public final class JavaScanKernels implements ScanKernels {
  private final int chunk;
  private final int segmentChunks;

  /** {@code base} with these kernels, chunks of {@code chunk} steps, for the selective scan. */
  public static KernelImplementations in(KernelImplementations base, int chunk) {
    return base.with(ScanKernels.class, new JavaScanKernels(chunk));
  }

  /** The forward and the backward in one segment. */
  JavaScanKernels(int chunk) {
    this(chunk, Integer.MAX_VALUE);
  }

  /** The forward and the backward in segments of {@code segmentChunks} chunks, the last one what is left. */
  JavaScanKernels(int chunk, int segmentChunks) {
    if (segmentChunks < 1) {
      throw new IllegalArgumentException("segments hold at least one chunk, got " + segmentChunks);
    }
    this.chunk = chunk;
    this.segmentChunks = segmentChunks;
  }

  /** How many segments the forward and the backward split {@code time} steps into. */
  int segments(long time) {
    long chunks = (time + chunk - 1) / chunk;
    return (int) ((chunks + segmentChunks - 1) / segmentChunks);
  }

  @Override
  public int chunk(long state) {
    return chunk;
  }

  @Override
  public String unavailable(Tensor u, long channels, long groups, long state) {
    return channels % groups == 0 ? null : channels + " channels in " + groups + " groups";
  }

  @Override
  public void forward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor y, Tensor entering) {
    Dims s = new Dims(u, a, b, chunk);
    float[] uu = read(u);
    float[] dd = read(delta);
    float[] aa = read(a);
    float[] bb = read(b);
    float[] cc = read(c);
    float[] out = new float[uu.length];
    float[] keep = new float[(int) entering.numel()];
    int segments = segments(s.time);
    int perSegment = Math.min(segmentChunks, s.chunks);
    float[] local = new float[segments];
    float[] decays = new float[segments];
    for (int batch = 0; batch < s.batch; batch++) {
      for (int d = 0; d < s.channels; d++) {
        int g = d / (s.channels / s.groups);
        for (int n = 0; n < s.state; n++) {
          float an = aa[d * s.state + n];
          // selective_scan_forward_carry: every segment but the last from h = 0, and its decays' product
          for (int segment = 0; segment < segments - 1; segment++) {
            int start = segment * perSegment * chunk;
            float h = 0;
            float sum = 0;
            for (int t = start; t < Math.min(s.time, start + perSegment * chunk); t++) {
              int at = s.at(batch, t, d);
              h = (float) Math.exp(dd[at] * an) * h + dd[at] * bb[s.bc(batch, t, g, n)] * uu[at];
              sum += dd[at];
            }
            local[segment] = h;
            decays[segment] = (float) Math.exp(sum * an);
          }
          // selective_scan_forward: one block per segment, each from what the earlier segments hand over
          for (int segment = 0; segment < segments; segment++) {
            float h = 0;
            for (int earlier = 0; earlier < segment; earlier++) {
              h = local[earlier] + decays[earlier] * h;
            }
            int start = segment * perSegment * chunk;
            for (int t = start; t < Math.min(s.time, start + perSegment * chunk); t++) {
              if (t % chunk == 0) {
                keep[s.kept(batch, d, t / chunk, n)] = h;
              }
              int at = s.at(batch, t, d);
              int bc = s.bc(batch, t, g, n);
              h = (float) Math.exp(dd[at] * an) * h + dd[at] * bb[bc] * uu[at];
              out[at] += cc[bc] * h;
            }
          }
        }
      }
    }
    y.data_ptr_float().put(out);
    entering.data_ptr_float().put(keep);
  }

  @Override
  public void backward(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, Tensor entering, Tensor dy,
      Tensor du, Tensor ddelta, Tensor da, Tensor db, Tensor dc) {
    Dims s = new Dims(u, a, b, chunk);
    float[] uu = read(u);
    float[] dd = read(delta);
    float[] aa = read(a);
    float[] bb = read(b);
    float[] cc = read(c);
    float[] keep = read(entering);
    float[] gy = read(dy);
    float[] gu = new float[uu.length];
    float[] gd = new float[dd.length];
    float[] ga = read(da);
    float[] gb = read(db);
    float[] gc = read(dc);
    float[] states = new float[chunk];
    int segments = segments(s.time);
    int perSegment = Math.min(segmentChunks, s.chunks);
    float[] local = new float[segments];
    float[] decays = new float[segments];
    for (int batch = 0; batch < s.batch; batch++) {
      for (int d = 0; d < s.channels; d++) {
        int g = d / (s.channels / s.groups);
        for (int n = 0; n < s.state; n++) {
          float an = aa[d * s.state + n];
          // selective_scan_backward_carry: every segment but the first from dh = 0, and its decays' product
          for (int segment = 1; segment < segments; segment++) {
            int start = segment * perSegment * chunk;
            int end = Math.min(s.time, start + perSegment * chunk);
            float dh = 0;
            float sum = 0;
            for (int t = end - 1; t >= start; t--) {
              int at = s.at(batch, t, d);
              dh += gy[at] * cc[s.bc(batch, t, g, n)];
              dh *= (float) Math.exp(dd[at] * an);
              sum += dd[at];
            }
            local[segment] = dh;
            decays[segment] = (float) Math.exp(sum * an);
          }
          // selective_scan_backward: one block per segment, each from what the later segments hand over
          for (int segment = 0; segment < segments; segment++) {
            float dh = 0;
            for (int later = segments - 1; later > segment; later--) {
              dh = local[later] + decays[later] * dh;
            }
            float daSum = 0;
            int first = segment * perSegment;
            for (int k0 = Math.min(s.chunks, first + perSegment) - 1; k0 >= first; k0--) {
              int start = k0 * chunk;
              int length = Math.min(chunk, s.time - start);
              float h0 = keep[s.kept(batch, d, k0, n)];
              float h = h0;
              for (int k = 0; k < length; k++) {
                int at = s.at(batch, start + k, d);
                h = (float) Math.exp(dd[at] * an) * h + dd[at] * bb[s.bc(batch, start + k, g, n)] * uu[at];
                states[k] = h;
              }
              for (int k = length - 1; k >= 0; k--) {
                int at = s.at(batch, start + k, d);
                int bc = s.bc(batch, start + k, g, n);
                float dt = dd[at];
                float decay = (float) Math.exp(dt * an);
                float before = k > 0 ? states[k - 1] : h0;
                dh += gy[at] * cc[bc];
                float dDecay = dh * before * decay;
                daSum += dDecay * dt;
                gu[at] += dh * bb[bc] * dt;
                gd[at] += dDecay * an + dh * bb[bc] * uu[at];
                gb[bc] += dh * dt * uu[at];
                gc[bc] += gy[at] * states[k];
                dh *= decay;
              }
            }
            ga[d * s.state + n] += daSum;
          }
        }
      }
    }
    du.data_ptr_float().put(gu);
    ddelta.data_ptr_float().put(gd);
    da.data_ptr_float().put(ga);
    db.data_ptr_float().put(gb);
    dc.data_ptr_float().put(gc);
  }

  private static float[] read(Tensor t) {
    float[] values = new float[(int) t.numel()];
    t.data_ptr_float().get(values);
    return values;
  }

  private record Dims(int batch, int time, int channels, int groups, int state, int chunks) {
    Dims(Tensor u, Tensor a, Tensor b, int chunk) {
      this((int) u.size(0), (int) u.size(1), (int) u.size(2), (int) b.size(2), (int) a.size(1),
          (int) ((u.size(1) + chunk - 1) / chunk));
    }

    int at(int batch, int t, int d) {
      return (batch * time + t) * channels + d;
    }

    int bc(int batch, int t, int g, int n) {
      return ((batch * time + t) * groups + g) * state + n;
    }

    int kept(int batch, int d, int k, int n) {
      return ((batch * channels + d) * chunks + k) * state + n;
    }
  }
}
