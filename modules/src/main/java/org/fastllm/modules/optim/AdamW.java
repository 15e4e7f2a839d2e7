package org.fastllm.modules.optim;

import org.fastllm.modules.distributed.GradientSync;

import java.util.ArrayList;
import java.util.HashMap;
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
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.stack.NamedParameter;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) with each tensor's group settings: weight decay only
 * where the model marks it, the learning rate times its block's {@code lr_scale}.
 *
 * <pre>{@code
 * // given LanguageModel model, ConfigDocument config, Tensor loss, LearningRateSchedule schedule, int step
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
 * <p>bfloat16 copies: given linear layers ({@link Linear#useCopy}), the optimizer keeps a bfloat16 copy of each of
 * their float32 weights, which the layer reads under CUDA autocast instead of casting the weight at each forward;
 * the copy's gradient (bfloat16, as autocast's product gives it) is the weight's, and one pass per tensor
 * ({@link CopyAdamW}) updates the weight and its moments and rewrites the copy. Checkpoints hold the float32
 * weights, as without copies. Not with flat gradients.
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

  /** Tensors sharing decay flag, rate scale, dtype, device and whether they have copies, in flat buffers. */
  private static final class Group {
    final boolean decay;
    final double lrScale;
    /** The slots' linear layers, which read bfloat16 copies; null for a group without copies. */
    final List<Linear> targets;
    final List<Slot> slots = new ArrayList<>();
    /** With copies: the flat bfloat16 copy of {@link #values}, each slot's view of it (a leaf), and a scale of 1. */
    Tensor copyValues;
    List<Tensor> copies;
    Tensor one;
    Tensor values;
    /** The flat gradient buffer, or null where gradients are autograd's own tensors. */
    Tensor grads;
    Tensor expAvg;
    Tensor expAvgSq;
    /** The step count as the fused kernel reads it, and the kernel's tensor-list arguments, built once. */
    Tensor stepCount;
    org.bytedeco.pytorch.IValue[] fusedLists;

    Group(boolean decay, double lrScale, boolean withCopies) {
      this.decay = decay;
      this.lrScale = lrScale;
      this.targets = withCopies ? new ArrayList<>() : null;
    }

    boolean accepts(NamedParameter p, boolean withCopies) {
      if ((targets != null) != withCopies || p.weightDecay() != decay || p.lrScale() != lrScale) {
        return false;
      }
      if (slots.isEmpty()) {
        return true;
      }
      Tensor first = slots.get(0).parameter().tensor();
      Tensor t = p.tensor();
      return t.scalar_type().intern() == first.scalar_type().intern()
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
      if (targets != null) {
        copyValues = values.to(torch.ScalarType.BFloat16);
        copies = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
          Tensor copy = view(copyValues, slots.get(i)).detach();
          copy.set_requires_grad(true);
          copies.add(copy);
          targets.get(i).useCopy(copy);
        }
        one = torch.ones(new long[] {}, new TensorOptions(torch.ScalarType.Float)
            .device(new org.bytedeco.pytorch.DeviceOptional(first.device())));
      } else if (fused) {
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

    /** Each tensor's gradient (its copy's, with copies), a zero tensor where no backward pass reached it. */
    List<Tensor> gradients() {
      if (grads != null) {
        return views(grads);
      }
      List<Tensor> all = new ArrayList<>(slots.size());
      for (int i = 0; i < slots.size(); i++) {
        Tensor p = copies != null ? copies.get(i) : slots.get(i).parameter().tensor();
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
    this(parameters, resolved, flatGradients, List.of());
  }

  /**
   * As {@link #AdamW(List, OptimizerConfig, boolean)}, keeping bfloat16 copies of the float32 weights of
   * {@code copyTargets} that are among the optimized tensors (none with flat gradients).
   */
  public AdamW(List<NamedParameter> parameters, OptimizerConfig resolved, boolean flatGradients,
      List<Linear> copyTargets) {
    this(parameters, resolved, FusedAdamW.AVAILABLE, flatGradients || Boolean.getBoolean("fastllm.flatGradients"),
        copyTargets);
  }

  /** With {@code fused} false the update runs in tensor operations even where the fused kernel exists. */
  AdamW(List<NamedParameter> parameters, OptimizerConfig resolved, boolean fused, boolean flatGradients) {
    this(parameters, resolved, fused, flatGradients, List.of());
  }

  AdamW(List<NamedParameter> parameters, OptimizerConfig resolved, boolean fused, boolean flatGradients,
      List<Linear> copyTargets) {
    this.config = resolved;
    this.flatGradients = flatGradients;
    Map<Long, Linear> byWeight = new HashMap<>();
    if (!flatGradients) {
      for (Linear linear : copyTargets) {
        if (linear.weight().scalar_type().intern() == torch.ScalarType.Float) {
          byWeight.put(linear.weight().unsafeGetTensorImpl().address(), linear);
        }
      }
    }
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (NamedParameter p : parameters) {
        if (p.trainable() && p.lrScale() > 0) {
          Linear target = byWeight.get(p.tensor().unsafeGetTensorImpl().address());
          Group group = groupFor(p, target != null);
          group.slots.add(new Slot(p, offsetIn(group), p.tensor().numel()));
          if (target != null) {
            group.targets.add(target);
          }
        }
      }
      groups.forEach(g -> g.flatten(fused, flatGradients));
    }
  }

  private Group groupFor(NamedParameter p, boolean withCopies) {
    for (Group g : groups) {
      if (g.accepts(p, withCopies)) {
        return g;
      }
    }
    Group created = new Group(p.weightDecay(), p.lrScale(), withCopies);
    groups.add(created);
    return created;
  }

  /** How many tensors the optimizer keeps bfloat16 copies of. */
  public int copies() {
    return groups.stream().filter(g -> g.copies != null).mapToInt(g -> g.copies.size()).sum();
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
          List<Tensor> gradients = g.gradients();
          norms.add(torch.stack(FusedAdamW.norms(gradients.get(0), gradients, torch.ScalarType.Float)).norm()
              .to(torch.ScalarType.Float));
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
        if (g.copies != null) {
          List<Tensor> gradients = g.gradients();
          Tensor scale = pendingScale != null ? pendingScale : g.one;
          for (int i = 0; i < g.slots.size(); i++) {
            Slot s = g.slots.get(i);
            CopyAdamW.step(s.parameter().tensor(), Group.view(g.expAvg, s), Group.view(g.expAvgSq, s),
                gradients.get(i), g.copies.get(i), scale, lr, decay, beta1, beta2, config.epsilon(), step);
          }
        } else if (g.fusedLists != null) {
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
      } else if (g.copies != null) {
        g.copies.forEach(c -> c.mutable_grad().put(new Tensor()));
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
    weightsChanged();
  }

  /** Rewrites the bfloat16 copies from the weights: call it after changing optimized weights from outside. */
  public void weightsChanged() {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (Group g : groups) {
        if (g.copyValues != null) {
          g.copyValues.copy_(g.values);
        }
      }
    }
  }
}
