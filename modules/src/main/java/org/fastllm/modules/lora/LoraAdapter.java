package org.fastllm.modules.lora;

import org.fastllm.modules.layer.Parameters;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.ParameterInit;

/**
 * One low-rank update of a linear layer {@code [out, in]}: {@code delta(x) = dropout(x) A^T B^T * alpha / rank} with
 * {@code A [rank, in]} and {@code B [out, rank]}.
 *
 * <pre>{@code LoraAdapter adapter = LoraAdapter.fresh(1024, 1024, 8, 16.0, 0.0);  // adds 0 until B is trained}</pre>
 *
 * <p><b>B starts at zero, so a fresh adapter leaves the layer's output unchanged.</b>
 */
public final class LoraAdapter extends Module {
  private final Tensor a;
  private final Tensor b;
  private final double scaling;
  private final double dropout;

  private LoraAdapter(Tensor a, Tensor b, double scaling, double dropout) {
    this.a = Parameters.register(this, "a", a);
    this.b = Parameters.register(this, "b", b);
    this.scaling = scaling;
    this.dropout = dropout;
  }

  /** A with std {@code in^-1/2}, B zero. */
  public static LoraAdapter fresh(long out, long in, int rank, double alpha, double dropout) {
    return new LoraAdapter(ParameterInit.kaiming(in, rank, in), ParameterInit.zeros(out, rank), alpha / rank, dropout);
  }

  /** The update to add to the linear layer's output for {@code input}. */
  public Tensor delta(Tensor input) {
    Tensor x = dropout > 0 ? torch.dropout(input, dropout, is_training()) : input;
    return torch.linear(torch.linear(x, a), b).mul(new Scalar(scaling));
  }

  public Tensor a() {
    return a;
  }

  public Tensor b() {
    return b;
  }
}
