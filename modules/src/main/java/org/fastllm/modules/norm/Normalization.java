package org.fastllm.modules.norm;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.NormType;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.modules.kernel.KernelFeature;
import org.fastllm.modules.kernel.KernelKey;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.ParameterInit;
import org.fastllm.modules.layer.Parameters;

/**
 * layer_norm (weight and bias) or rms_norm (weight only) over the last dimension, as the config says.
 *
 * <pre>{@code
 * // given LayerContext context
 * Normalization norm = Normalization.of(new NormalizationConfig(NormType.RMS_NORM, 1e-5), 1024, context);
 * }</pre>
 *
 * <p>With {@code training.kernels.norm} on or auto, under bf16 autocast on a CUDA device, for float32 input,
 * forward and backward are one kernel each ({@code norm.cu}, compiled at first use) and the output is bfloat16, the
 * type every matrix product reading it would cast it to (see {@link FusedNorm}); otherwise libtorch's
 * {@code layer_norm} and {@code rms_norm} run, which under autocast return float32. Off by default: on an H200 the
 * kernels made a 1.1B model's step 1% faster but GPT-2-small-sized and hybrid models' steps 23% and 7% slower
 * (docs/performance.md).
 */
public final class Normalization extends Module {
  private final NormType type;
  private final double epsilon;
  private final long size;
  private final Tensor weight;
  private final Tensor bias;
  private final KernelFeature feature;
  private final NormKernels kernels;

  private Normalization(NormType type, double epsilon, long size, LayerContext context) {
    this.type = type;
    this.epsilon = epsilon;
    this.size = size;
    this.weight = Parameters.register(this, "weight", ParameterInit.ones(size));
    this.bias = type == NormType.LAYER_NORM ? Parameters.register(this, "bias", ParameterInit.zeros(size)) : null;
    this.feature = context.feature(KernelKey.NORM);
    this.kernels = context.implementation(NormKernels.class, CudaNormKernels::new);
  }

  /** A norm over {@code size} values of a model built with {@code context}; the config must be resolved. */
  public static Normalization of(NormalizationConfig config, long size, LayerContext context) {
    return new Normalization(config.type(), config.epsilon(), size, context);
  }

  public Tensor forward(Tensor input) {
    boolean rms = type != NormType.LAYER_NORM;
    if (feature.runs(() -> FusedNorm.unavailable(kernels, input, weight, size, rms))) {
      return FusedNorm.apply(kernels, feature, input, weight, bias, epsilon);
    }
    long[] shape = {size};
    if (type == NormType.LAYER_NORM) {
      return torch.layer_norm(input, shape, new TensorOptional(weight), new TensorOptional(bias), epsilon, false);
    }
    return torch.rms_norm(input, shape, new TensorOptional(weight), new DoubleOptional(epsilon));
  }
}
