package org.fastllm.modules.attention;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Which keys each query may see: causal (keys up to the query) and, with a window of {@code w}, only keys less than
 * {@code w} positions back (Fast-LLM's flash window {@code (w-1, 0)}); without causality the window is symmetric.
 *
 * <pre>{@code new AttentionMask(true, 4).allowed(6)  // [6, 6] booleans, true where query i sees key j}</pre>
 *
 * @param causal whether future keys are hidden
 * @param window the window size, or 0 for none
 */
public record AttentionMask(boolean causal, int window) {

  /** True when no mask is needed at all. */
  public boolean seesEverything() {
    return !causal && window == 0;
  }

  /** True when the causal mask alone describes it (so the fused kernel's {@code is_causal} can be used). */
  public boolean plainCausal(long time) {
    return causal && (window == 0 || window >= time);
  }

  /** {@code [time, time]} booleans on the CPU: entry {@code (i, j)} is true when query i may see key j. */
  public Tensor allowed(long time) {
    return allowed(time, new Device(torch.DeviceType.CPU));
  }

  /** {@code [time, time]} booleans on {@code device}: entry {@code (i, j)} is true when query i may see key j. */
  public Tensor allowed(long time, Device device) {
    return allowed(time, time, device);
  }

  /**
   * {@code [queries, keys]} booleans on {@code device} for queries at the last {@code queries} of {@code keys}
   * consecutive positions (a decoding step after its cache): entry {@code (i, j)} is true when query i may see key j.
   */
  public Tensor allowed(long queries, long keys, Device device) {
    TensorOptions longs = new TensorOptions(torch.ScalarType.Long).device(new DeviceOptional(device));
    Tensor i = torch.arange(new Scalar(queries), longs).add(new Scalar(keys - queries)).unsqueeze(1);
    Tensor j = torch.arange(new Scalar(keys), longs).unsqueeze(0);
    Tensor back = i.sub(j);
    Tensor allowed = causal ? back.ge(new Scalar(0)) : torch.ones_like(back).to(torch.ScalarType.Bool);
    if (window > 0) {
      allowed = allowed.logical_and(back.abs().lt(new Scalar(window)));
    }
    return allowed;
  }
}
