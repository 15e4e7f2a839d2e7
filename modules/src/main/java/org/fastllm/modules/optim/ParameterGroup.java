package org.fastllm.modules.optim;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Tensors sharing decay flag, rate scale, dtype, device and update path, moved into flat buffers: the values (each
 * tensor's storage becomes a view of them), both moments, and with flat gradients the gradients. Each update path is
 * a subclass: {@link FusedKernelGroup}, {@link TensorOperationsGroup}, {@link Bf16CopyGroup}.
 *
 * <pre>{@code
 * // given List<Slot> slots, UpdateStep step
 * ParameterGroup g = new TensorOperationsGroup(true, 1.0, slots, false);   // decay, lr_scale 1, autograd's gradients
 * g.update(step);
 * }</pre>
 *
 * <p><b>Built under a {@code NoGradGuard}</b>: moving the tensors' storage must not be recorded by autograd.
 */
abstract class ParameterGroup {
  private final boolean decay;
  private final double lrScale;
  private final List<Slot> slots;
  final Tensor values;
  /** The flat gradient buffer, or null where gradients are autograd's own tensors. */
  final Tensor grads;
  final Tensor expAvg;
  final Tensor expAvgSq;
  /** The step count as the fused kernel reads it. */
  final Tensor stepCount;
  private boolean keepGradients;

  /** Moves every tensor's values into the group's flat buffers; gradients too when {@code flatGradients}. */
  ParameterGroup(boolean decay, double lrScale, List<Slot> slots, boolean flatGradients) {
    this.decay = decay;
    this.lrScale = lrScale;
    this.slots = List.copyOf(slots);
    long total = slots.stream().mapToLong(Slot::numel).sum();
    Tensor first = slots.get(0).parameter().tensor();
    TensorOptions options = new TensorOptions(first.scalar_type()).device(new DeviceOptional(first.device()));
    values = torch.zeros(new long[] {total}, options);
    grads = flatGradients ? torch.zeros(new long[] {total}, options) : null;
    expAvg = torch.zeros(new long[] {total}, options);
    expAvgSq = torch.zeros(new long[] {total}, options);
    for (Slot s : slots) {
      Tensor p = s.parameter().tensor();
      long[] shape = p.sizes().vec().get();
      values.narrow(0, s.offset(), s.numel()).copy_(p.reshape(-1));
      p.set_(values, s.offset(), shape, contiguousStrides(shape));
      p.mutable_grad().put(flatGradients ? view(grads, s) : new Tensor());
    }
    stepCount = torch.zeros(new long[] {1}, new TensorOptions(torch.ScalarType.Float)
        .device(new DeviceOptional(first.device()))).squeeze();
  }

  /** One AdamW update of every tensor of the group; the caller has advanced {@link #stepCount} already. */
  abstract void update(UpdateStep step);

  boolean decay() {
    return decay;
  }

  double lrScale() {
    return lrScale;
  }

  List<Slot> slots() {
    return slots;
  }

  Tensor stepCount() {
    return stepCount;
  }

  /** How many bfloat16 weight copies the group keeps. */
  int copies() {
    return 0;
  }

  /** Rewrites whatever the group derives from the weights, after they changed from outside. */
  void weightsChanged() {}

  /** The tensors whose {@code grad()} holds the gradients when they are autograd's own: the parameters. */
  List<Tensor> gradientOwners() {
    return tensors();
  }

  Tensor expAvg(Slot s) {
    return view(expAvg, s);
  }

  Tensor expAvgSq(Slot s) {
    return view(expAvgSq, s);
  }

  /** The flat gradient buffer that one all-reduce averages; null without flat gradients. */
  Tensor flatGradientBuffer() {
    return grads;
  }

  List<Tensor> tensors() {
    return slots.stream().map(s -> s.parameter().tensor()).toList();
  }

  List<Tensor> views(Tensor flat) {
    return slots.stream().map(s -> view(flat, s)).toList();
  }

  /** Each tensor's gradient, a zero tensor where no backward pass reached it. */
  List<Tensor> gradients() {
    if (grads != null) {
      return views(grads);
    }
    List<Tensor> owners = gradientOwners();
    List<Tensor> all = new ArrayList<>(owners.size());
    for (Tensor p : owners) {
      Tensor g = p.grad();
      if (!g.defined()) {
        g = torch.zeros_like(p);
        p.mutable_grad().put(g);
      }
      all.add(g);
    }
    return all;
  }

  /** The gradients as one flat tensor: the buffer itself, or a copy of autograd's tensors. */
  Tensor gradientsAsOneTensor() {
    return grads != null ? grads
        : torch.cat(new TensorVector(gradients().stream().map(g -> g.reshape(-1)).toArray(Tensor[]::new)));
  }

  /** The L2 norm of the group's gradients, float32, on the device. */
  Tensor gradientNorm() {
    if (grads != null) {
      return grads.norm().to(torch.ScalarType.Float);
    }
    List<Tensor> gradients = gradients();
    return torch.stack(FusedAdamW.norms(gradients.get(0), gradients, torch.ScalarType.Float)).norm()
        .to(torch.ScalarType.Float);
  }

  /**
   * Zeroes flat gradients in place; drops autograd's own, so the next backward pass hands over new ones, unless
   * {@link #keepGradients kept}: then those are zeroed in place too.
   */
  void zeroGradients() {
    if (grads != null) {
      grads.zero_();
    } else if (keepGradients) {
      List<Tensor> held = new ArrayList<>();
      for (Tensor owner : gradientOwners()) {
        Tensor grad = owner.grad();
        if (grad.defined()) {
          held.add(grad);
        }
      }
      FusedAdamW.zero(held);
    } else {
      gradientOwners().forEach(t -> t.mutable_grad().put(new Tensor()));
    }
  }

  /** From now on {@link #zeroGradients} zeroes autograd's gradients in place, where they stay. */
  void keepGradients() {
    keepGradients = true;
  }

  static Tensor view(Tensor flat, Slot s) {
    return flat.narrow(0, s.offset(), s.numel()).view(s.parameter().tensor().sizes().vec().get());
  }

  private static long[] contiguousStrides(long[] shape) {
    long[] strides = new long[shape.length];
    long stride = 1;
    for (int i = shape.length - 1; i >= 0; i--) {
      strides[i] = stride;
      stride *= shape[i];
    }
    return strides;
  }
}
