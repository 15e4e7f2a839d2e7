package org.fastllm.modules.attention;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.testing.Torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RotaryTest {

  /** Position t, pair f: (re, im) turned by t * theta^(-2f/size), one element at a time in double. */
  private static Tensor slow(Tensor x, double theta) {
    Tensor d = x.to(torch.ScalarType.Double).contiguous();
    long b = d.size(0);
    long h = d.size(1);
    long time = d.size(2);
    long size = d.size(3);
    double[] v = new double[(int) d.numel()];
    d.data_ptr_double().get(v);
    double[] out = new double[v.length];
    for (int i = 0; i < b * h; i++) {
      for (int t = 0; t < time; t++) {
        for (int f = 0; f < size / 2; f++) {
          double angle = t * Math.pow(theta, -2.0 * f / size);
          int base = (int) ((i * time + t) * size);
          double re = v[base + f];
          double im = v[(int) (base + f + size / 2)];
          out[base + f] = re * Math.cos(angle) - im * Math.sin(angle);
          out[(int) (base + f + size / 2)] = re * Math.sin(angle) + im * Math.cos(angle);
        }
      }
    }
    Tensor result = torch.empty_like(d);
    result.data_ptr_double().put(out);
    return result;
  }

  enum Type { DOUBLE, FLOAT }

  @ParameterizedTest
  @EnumSource(Type.class)
  void cachedTables_growForLongerSequences_andServeShorterOnes(Type type) {
    torch.ScalarType scalar = type == Type.DOUBLE ? torch.ScalarType.Double : torch.ScalarType.Float;
    Rotary rotary = new Rotary(500.0);
    for (int time : new int[] {5, 9, 3, 9, 40}) {
      Torch.seed(time);
      Tensor x = Torch.randn(scalar, 2, 3, time, 8);
      double error = Torch.relativeError(rotary.apply(x), slow(x, 500.0));
      assertTrue(error < (type == Type.DOUBLE ? 1e-12 : 1e-6), "t=" + time + ": " + error);
    }
  }
}
