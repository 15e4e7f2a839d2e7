package org.fastllm.modules.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.SequenceLayer;

/**
 * Compares a layer's forward values and gradients (input and every parameter) with a slow reference run in float64
 * on copies of the same parameters.
 *
 * <pre>{@code LayerCheck.against(layer, Reference::attention).run(torch.ScalarType.Float, 1e-4, "case ...", 2, 5, 16);}</pre>
 */
public record LayerCheck(SequenceLayer layer, BiFunction<Tensor, Map<String, Tensor>, Tensor> reference) {

  public static LayerCheck against(SequenceLayer layer, BiFunction<Tensor, Map<String, Tensor>, Tensor> reference) {
    return new LayerCheck(layer, reference);
  }

  /** Runs both on a random input {@code [b, t, width]} and asserts every relative error is within {@code tolerance}. */
  public void run(torch.ScalarType type, double tolerance, String label, long... inputShape) {
    layer.to(type, false);
    Tensor x = Torch.randn(type, inputShape).set_requires_grad(true);
    Tensor out = layer.forward(x);
    Tensor weights = Torch.randn(torch.ScalarType.Double, Torch.shape(out));
    out.to(torch.ScalarType.Double).mul(weights).sum().backward();

    Map<String, Tensor> params = Torch.parameters(layer);
    Tensor xRef = x.detach().to(torch.ScalarType.Double).clone().set_requires_grad(true);
    Map<String, Tensor> refParams = new LinkedHashMap<>();
    params.forEach((name, p) -> refParams.put(name, p.detach().to(torch.ScalarType.Double).clone().set_requires_grad(true)));
    Tensor refOut = reference.apply(xRef, refParams);
    refOut.mul(weights).sum().backward();

    check(label + " output", out, refOut, tolerance);
    check(label + " input gradient", x.grad(), xRef.grad(), tolerance);
    params.forEach((name, p) -> check(label + " gradient of " + name, p.grad(), refParams.get(name).grad(), tolerance));
  }

  private static void check(String what, Tensor actual, Tensor expected, double tolerance) {
    assertThat(actual.defined()).as(what + ": no gradient reached it").isTrue();
    double error = Torch.relativeError(actual, expected, 1e-1);
    assertThat(error <= tolerance).as(what + ": relative error " + error + " above " + tolerance).isTrue();
  }
}
