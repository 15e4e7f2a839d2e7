package org.fastllm.modules.optim;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.Linear;

/**
 * A group of float32 linear weights whose layers read bfloat16 copies ({@link Linear#useCopy}): the gradients are
 * the copies', and one pass per tensor ({@link CopyAdamW}) updates the weight and its moments and rewrites the copy.
 *
 * <pre>{@code
 * // given List<Slot> slots, List<Linear> layers, UpdateStep step
 * new Bf16CopyGroup(true, 1.0, slots, layers).update(step);   // layers.get(i) owns slots.get(i)
 * }</pre>
 */
final class Bf16CopyGroup extends ParameterGroup {
  /** The flat bfloat16 copy of the values, and each slot's view of it (a leaf the layer reads). */
  private final Tensor copyValues;
  private final List<Tensor> copies = new ArrayList<>();
  /** The gradient scale when nothing is clipped. */
  private final Tensor one;

  Bf16CopyGroup(boolean decay, double lrScale, List<Slot> slots, List<Linear> layers) {
    super(decay, lrScale, slots, false);
    copyValues = values.to(torch.ScalarType.BFloat16);
    for (int i = 0; i < slots.size(); i++) {
      Tensor copy = view(copyValues, slots.get(i)).detach();
      copy.set_requires_grad(true);
      copies.add(copy);
      layers.get(i).useCopy(copy);
    }
    one = torch.ones(new long[] {}, new TensorOptions(torch.ScalarType.Float)
        .device(new DeviceOptional(values.device())));
  }

  @Override
  void update(UpdateStep s) {
    List<Tensor> gradients = gradients();
    Tensor scale = s.gradScale() != null ? s.gradScale() : one;
    for (int i = 0; i < slots().size(); i++) {
      Slot slot = slots().get(i);
      CopyAdamW.step(slot.parameter().tensor(), expAvg(slot), expAvgSq(slot), gradients.get(i), copies.get(i), scale,
          s.lr(), s.weightDecay(), s.beta1(), s.beta2(), s.epsilon(), s.step());
    }
  }

  @Override
  int copies() {
    return copies.size();
  }

  @Override
  List<Tensor> gradientOwners() {
    return copies;
  }

  @Override
  void weightsChanged() {
    copyValues.copy_(values);
  }
}
