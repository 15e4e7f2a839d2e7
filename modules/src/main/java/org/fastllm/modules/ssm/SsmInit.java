package org.fastllm.modules.ssm;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.ParameterInit;

/**
 * Fast-LLM's starting values for the state-space parameters.
 *
 * <pre>{@code SsmInit.aLog(128, 16)  // [128, 16], row i = log(1 .. 16)}</pre>
 */
final class SsmInit {
  static final double DT_MIN = 0.001;
  static final double DT_MAX = 0.1;
  static final double DT_FLOOR = 1e-4;

  private SsmInit() {}

  /** {@code A_log[d, n] = log(n + 1)}, so {@code A = -(1 .. N)} on every channel. */
  static Tensor aLog(long channels, long state) {
    Tensor row = torch.arange(new Scalar(1), new Scalar(state + 1), new TensorOptions(torch.ScalarType.Float)).log();
    return row.unsqueeze(0).expand(channels, state).contiguous();
  }

  /**
   * The dt bias: softplus of it is log-uniform in {@code [dt_min, dt_max]} (floored), so the first steps neither
   * forget everything nor nothing.
   */
  static Tensor dtBias(long channels) {
    Tensor dt = ParameterInit.uniform(1.0, channels).add(new Scalar(1.0)).mul(new Scalar(0.5))
        .mul(new Scalar(Math.log(DT_MAX) - Math.log(DT_MIN))).add(new Scalar(Math.log(DT_MIN))).exp()
        .clamp_min(new Scalar(DT_FLOOR));
    // Inverse of softplus: x + log(-expm1(-x)).
    return dt.add(dt.neg().expm1().neg().log());
  }
}
