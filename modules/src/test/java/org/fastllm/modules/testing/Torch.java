package org.fastllm.modules.testing;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** Test fixtures for libtorch: one thread (2-core machines spin otherwise), seeded, named parameters as a map. */
public final class Torch {
  static {
    torch.set_num_threads(1);
  }

  private Torch() {}

  /** Seeds libtorch's generator and makes sure the thread count is set. */
  public static void seed(long seed) {
    torch.manual_seed(seed);
  }

  public static Tensor randn(torch.ScalarType type, long... shape) {
    return torch.randn(shape, new TensorOptions(type));
  }

  /** Parameters by dotted name, in registration order, repeats included. */
  public static Map<String, Tensor> parameters(Module module) {
    StringTensorDict named = module.named_parameters(true);
    Map<String, Tensor> map = new LinkedHashMap<>();
    for (long i = 0; i < named.size(); i++) {
      // Copy the handle: value() points into the dictionary, which is freed with it.
      map.put(named.get(i).key().getString(), new Tensor(named.get(i).value()));
    }
    return map;
  }

  /** Shape as a Java array. */
  public static long[] shape(Tensor t) {
    long[] s = new long[(int) t.dim()];
    for (int i = 0; i < s.length; i++) {
      s[i] = t.size(i);
    }
    return s;
  }

  /** {@code max|actual - expected| / max|expected|}, both taken in double. */
  public static double relativeError(Tensor actual, Tensor expected) {
    return relativeError(actual, expected, 1e-30);
  }

  /**
   * {@code max|actual - expected| / max(max|expected|, floor)}: the floor keeps a gradient that is exactly zero in
   * theory (a query that can only see itself has none) from turning rounding noise into a huge ratio.
   */
  public static double relativeError(Tensor actual, Tensor expected, double floor) {
    Tensor a = actual.to(torch.ScalarType.Double);
    Tensor e = expected.to(torch.ScalarType.Double);
    double diff = a.sub(e).abs().max().item_double();
    double scale = e.abs().max().item_double();
    return diff / Math.max(scale, floor);
  }
}
