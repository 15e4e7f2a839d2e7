package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.ParameterInit;
import org.fastllm.modules.layer.Parameters;

/**
 * The gated RMS norm that ends the standard Mamba 2 mixer: {@code rmsnorm(y * silu(z)) * weight}, the gate applied
 * before the norm, the mean of squares taken over all {@code size} channels at once (transformers 5.x's
 * {@code MambaRMSNormGated}, which has no per-group normalisation).
 *
 * <pre>{@code
 * // given Tensor y, Tensor z
 * Tensor out = new GatedRmsNorm(128, 1e-5).forward(y, z);  // y, z, out: [b, t, 128]
 * }</pre>
 */
final class GatedRmsNorm extends Module {
  private final long size;
  private final double epsilon;
  private final Tensor weight;

  GatedRmsNorm(long size, double epsilon) {
    this.size = size;
    this.epsilon = epsilon;
    this.weight = Parameters.register(this, "weight", ParameterInit.ones(size));
  }

  Tensor forward(Tensor y, Tensor gate) {
    return torch.rms_norm(y.mul(torch.silu(gate)), new long[] {size}, new TensorOptional(weight),
        new DoubleOptional(epsilon));
  }
}
