package org.fastllm.modules.train;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.stack.NamedParameter;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) with each tensor's group settings: weight decay only
 * where the model marks it, the learning rate times its block's {@code lr_scale}.
 *
 * <pre>{@code
 * AdamW adam = new AdamW(model.uniqueParameters(), config.optimizer());
 * loss.backward(); Tensor norm = adam.clipGradients(1.0); adam.step(schedule.at(step)); adam.zeroGradients();
 * }</pre>
 *
 * <p>The tensors of one group (same decay flag, same {@code lr_scale}, dtype and device) are moved into one flat
 * buffer and the update runs as one fused kernel per group (or a handful of operations per group without it): a
 * model of 170 tensors takes a few kernel launches per step instead of about 1,500. The parameters keep their
 * identity (only their storage moves), so modules and checkpoints see no difference.
 *
 * <p>Gradients: by default each tensor's gradient is autograd's own, cleared (undefined) by {@link #zeroGradients},
 * so the first backward pass of a step hands its result over instead of adding it to zeros; the fused kernel takes
 * the gradients as a list. Created with {@code flatGradients} (data parallel runs), the gradients are views of one
 * flat buffer per group, zeroed in place and added to, so one all-reduce covers a group.
 *
 * <p><b>Tensors with {@code lr_scale} 0 are never touched</b>, so they stay bit-identical. Every optimized tensor
 * is updated each step, with a zero gradient where no backward pass reached it. Pass each tensor once
 * ({@code uniqueParameters()}), or a shared tensor is stepped twice.
 */
public final class AdamW {
  private final List<Group> groups = new ArrayList<>();
  private final OptimizerConfig config;
  private final boolean flatGradients;
  private long step;
  /** 1/min(1, maxNorm/norm) from the last {@link #clipGradients}, applied by the next {@link #step}. */
  private Tensor pendingScale;

  /** One optimized tensor: where it lies in its group's flat buffers. */
  private record Slot(NamedParameter parameter, long offset, long numel) {}

  /** Tensors sharing decay flag, rate scale, dtype and device, laid out in flat buffers. */
  private static final class Group {
    final boolean decay;
    final double lrScale;
    final List<Slot> slots = new ArrayList<>();
    Tensor values;
    /** The flat gradient buffer, or null where gradients are autograd's own tensors. */
    Tensor grads;
    Tensor expAvg;
    Tensor expAvgSq;
    /** The step count as the fused kernel reads it, and the kernel's tensor-list arguments, built once. */
    Tensor stepCount;
    org.bytedeco.pytorch.IValue[] fusedLists;

    Group(boolean decay, double lrScale) {
      this.decay = decay;
      this.lrScale = lrScale;
    }

    boolean accepts(NamedParameter p) {
      if (slots.isEmpty()) {
        return p.weightDecay() == decay && p.lrScale() == lrScale;
      }
      Tensor first = slots.get(0).parameter().tensor();
      Tensor t = p.tensor();
      return p.weightDecay() == decay && p.lrScale() == lrScale && t.scalar_type().intern() == first.scalar_type().intern()
          && t.device().str().getString().equals(first.device().str().getString());
    }

    /** Moves every tensor's values into the group's flat buffers; gradients too when {@code flatGradients}. */
    void flatten(boolean fused, boolean flatGradients) {
      long total = slots.stream().mapToLong(Slot::numel).sum();
      Tensor first = slots.get(0).parameter().tensor();
      TensorOptions options = new TensorOptions(first.scalar_type()).device(new org.bytedeco.pytorch.DeviceOptional(
          first.device()));
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
          .device(new org.bytedeco.pytorch.DeviceOptional(first.device()))).squeeze();
      if (fused) {
        fusedLists = FusedAdamW.lists(tensors(), flatGradients ? views(grads) : null, views(expAvg), views(expAvgSq),
            stepCount);
      }
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
      List<Tensor> all = new ArrayList<>(slots.size());
      for (Slot s : slots) {
        Tensor p = s.parameter().tensor();
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
    Tensor flatGradients() {
      return grads != null ? grads
          : torch.cat(new TensorVector(gradients().stream().map(g -> g.reshape(-1)).toArray(Tensor[]::new)));
    }

    static Tensor view(Tensor flat, Slot s) {
      return flat.narrow(0, s.offset(), s.numel()).view(s.parameter().tensor().sizes().vec().get());
    }
  }

  public AdamW(List<NamedParameter> parameters, OptimizerConfig resolved) {
    this(parameters, resolved, false);
  }

  /**
   * With {@code flatGradients} every group's gradients live in one buffer (for one all-reduce per group in a data
   * parallel run); {@code -Dfastllm.flatGradients=true} asks for it everywhere.
   */
  public AdamW(List<NamedParameter> parameters, OptimizerConfig resolved, boolean flatGradients) {
    this(parameters, resolved, FusedAdamW.AVAILABLE, flatGradients || Boolean.getBoolean("fastllm.flatGradients"));
  }

  /** With {@code fused} false the update runs in tensor operations even where the fused kernel exists. */
  AdamW(List<NamedParameter> parameters, OptimizerConfig resolved, boolean fused, boolean flatGradients) {
    this.config = resolved;
    this.flatGradients = flatGradients;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (NamedParameter p : parameters) {
        if (p.trainable() && p.lrScale() > 0) {
          Group group = groupFor(p);
          group.slots.add(new Slot(p, offsetIn(group), p.tensor().numel()));
        }
      }
      groups.forEach(g -> g.flatten(fused, flatGradients));
    }
  }

  private Group groupFor(NamedParameter p) {
    for (Group g : groups) {
      if (g.accepts(p)) {
        return g;
      }
    }
    Group created = new Group(p.weightDecay(), p.lrScale());
    groups.add(created);
    return created;
  }

  private static long offsetIn(Group g) {
    return g.slots.stream().mapToLong(Slot::numel).sum();
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

  /** Steps taken so far (restored from a checkpoint with {@link #restore}). */
  public long steps() {
    return step;
  }

  /** Names of the optimized tensors, in order. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    groups.forEach(g -> g.slots.forEach(s -> names.add(s.parameter().name())));
    return names;
  }

  /** Group sizes as {@code "decay"/"no_decay"} per lr_scale, for the summary. */
  public Map<String, Integer> groups() {
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (Group g : groups) {
      sizes.merge((g.decay ? "decay" : "no_decay") + " x" + g.lrScale, g.slots.size(), Integer::sum);
    }
    return sizes;
  }

  /**
   * Makes the next {@link #step} use the gradients scaled so their global L2 norm is at most {@code maxNorm} (0: no
   * clipping), and returns the norm before clipping, on the device: reading it is left to the caller, so clipping
   * itself never waits for the device. The fused kernel applies the scale as it reads each gradient, so clipping
   * takes no pass over the gradients of its own; the gradients themselves are left as they are.
   */
  public Tensor clipGradients(double maxNorm) {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      if (groups.isEmpty()) {
        return torch.zeros(new long[] {});
      }
      List<Tensor> norms = new ArrayList<>();
      for (Group g : groups) {
        if (g.grads != null) {
          norms.add(g.grads.norm().to(torch.ScalarType.Float));
        } else {
          norms.add(torch.stack(FusedAdamW.norms(g.values, g.gradients())).norm().to(torch.ScalarType.Float));
        }
      }
      Tensor total = torch.stack(new TensorVector(norms.toArray(Tensor[]::new))).norm();
      setPendingScale(maxNorm > 0 ? total.add(new Scalar(1e-6)).div(new Scalar(maxNorm)).clamp_min(new Scalar(1.0))
          : null);
      return total;
    }
  }

  private void setPendingScale(Tensor scale) {
    if (pendingScale != null) {
      pendingScale.releaseReference();
    }
    pendingScale = scale;
    if (scale != null) {
      scale.retainReference();
    }
  }

  /**
   * One AdamW update of every optimized tensor at base rate {@code learningRate}, with the gradients clipped as the
   * last {@link #clipGradients} asked: one fused kernel per group where libtorch has {@code _fused_adamw_}, else the
   * same update in tensor operations.
   */
  public void step(double learningRate) {
    step++;
    double beta1 = config.beta1();
    double beta2 = config.beta2();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (Group g : groups) {
        double lr = learningRate * g.lrScale;
        double decay = g.decay ? config.weightDecay() : 0.0;
        g.stepCount.add_(new Scalar(1.0));
        if (g.fusedLists != null) {
          org.bytedeco.pytorch.IValue grads = g.grads != null ? g.fusedLists[1]
              : FusedAdamW.list(g.values, g.gradients());
          FusedAdamW.step(g.fusedLists, grads, lr, beta1, beta2, decay, config.epsilon(), pendingScale);
        } else {
          unfused(g, lr, decay, beta1, beta2);
        }
      }
    }
    setPendingScale(null);
  }

  private void unfused(Group g, double lr, double decay, double beta1, double beta2) {
    double correction1 = 1 - Math.pow(beta1, step);
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
    Tensor grads = g.flatGradients();
    if (pendingScale != null) {
      grads = grads.div(pendingScale.to(grads.scalar_type()));
    }
    if (decay > 0) {
      g.values.mul_(new Scalar(1 - lr * decay));
    }
    g.expAvg.mul_(new Scalar(beta1)).add_(grads, new Scalar(1 - beta1));
    g.expAvgSq.mul_(new Scalar(beta2)).addcmul_(grads, grads, new Scalar(1 - beta2));
    Tensor denom = g.expAvgSq.sqrt().div_(new Scalar(sqrtCorrection2)).add_(new Scalar(config.epsilon()));
    g.values.addcdiv_(g.expAvg, denom, new Scalar(-lr / correction1));
  }

  /**
   * Replaces every gradient by its mean over the processes of {@code sync}: one all-reduce per group's flat buffer,
   * so a tensor shared by several blocks is reduced once. Call it after the backward passes, before clipping.
   */
  public void averageGradients(GradientSync sync) {
    if (sync.worldSize() > 1) {
      if (!flatGradients) {
        throw new IllegalStateException("averaging gradients over processes needs an optimizer made with flat "
            + "gradients");
      }
      try (NoGradGuard noGrad = new NoGradGuard()) {
        groups.forEach(g -> sync.average(g.grads));
      }
    }
  }

  /**
   * Clears every gradient, so the next backward starts from nothing: flat gradients are zeroed in place, autograd's
   * own are dropped (undefined) and the next backward pass hands over new ones.
   */
  public void zeroGradients() {
    for (Group g : groups) {
      if (g.grads != null) {
        g.grads.zero_();
      } else {
        g.slots.forEach(s -> s.parameter().tensor().mutable_grad().put(new Tensor()));
      }
    }
  }

  /** The moments by name: {@code exp_avg.<tensor>} and {@code exp_avg_sq.<tensor>}, views of the flat buffers. */
  public Map<String, Tensor> state() {
    Map<String, Tensor> state = new LinkedHashMap<>();
    for (Group g : groups) {
      for (Slot s : g.slots) {
        state.put("exp_avg." + s.parameter().name(), Group.view(g.expAvg, s));
        state.put("exp_avg_sq." + s.parameter().name(), Group.view(g.expAvgSq, s));
      }
    }
    return state;
  }

  /** Copies saved moments in and sets the step count; every optimized tensor must have both moments. */
  public void restore(Map<String, Tensor> saved, long steps) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (Map.Entry<String, Tensor> e : state().entrySet()) {
        Tensor value = saved.get(e.getKey());
        if (value == null) {
          throw new IllegalStateException("optimizer state has no '" + e.getKey() + "'");
        }
        e.getValue().copy_(value);
      }
      for (Group g : groups) {
        g.stepCount.fill_(new Scalar((double) steps));
      }
    }
    this.step = steps;
  }
}
