package org.fastllm.modules.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.distributed.GradientSync;
import org.fastllm.modules.layer.Linear;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) with each tensor's group settings: weight decay only
 * where the model marks it, the learning rate times its block's {@code lr_scale}.
 *
 * <pre>{@code
 * // given LanguageModel model, ConfigDocument config, Tensor loss, LearningRateSchedule schedule, int step
 * AdamW adam = AdamW.builder(config.optimizer()).build(model.uniqueParameters());
 * loss.backward(); Tensor norm = adam.clipGradients(1.0); adam.step(schedule.at(step)); adam.zeroGradients();
 * }</pre>
 *
 * <p>The tensors of one group (same decay flag, same {@code lr_scale}, dtype and device) are moved into one flat
 * buffer and the update runs as one fused kernel per group ({@link FusedKernelGroup}, or a handful of tensor
 * operations per group without it, {@link TensorOperationsGroup}): a model of 170 tensors takes a few kernel
 * launches per step instead of about 1,500. The parameters keep their identity (only their storage moves), so
 * modules and checkpoints see no difference.
 *
 * <p>Gradients: by default each tensor's gradient is autograd's own, cleared (undefined) by {@link #zeroGradients},
 * so the first backward pass of a step hands its result over instead of adding it to zeros; the fused kernel takes
 * the gradients as a list. Built with {@link AdamWBuilder#flatGradients} (data parallel runs), the gradients are
 * views of one flat buffer per group, zeroed in place and added to, so one all-reduce covers a group.
 *
 * <p>bfloat16 copies: given linear layers ({@link Linear#useCopy}), the optimizer keeps a bfloat16 copy of each of
 * their float32 weights, which the layer reads under CUDA autocast instead of casting the weight at each forward;
 * the copy's gradient (bfloat16, as autocast's product gives it) is the weight's, and one pass per tensor
 * ({@link Bf16CopyGroup}) updates the weight and its moments and rewrites the copy. Checkpoints hold the float32
 * weights, as without copies. Not with flat gradients.
 *
 * <p><b>Tensors with {@code lr_scale} 0 are never touched</b>, so they stay bit-identical. Every optimized tensor
 * is updated each step, with a zero gradient where no backward pass reached it. Pass each tensor once
 * ({@code uniqueParameters()}), or a shared tensor is stepped twice.
 */
public final class AdamW {
  private final List<ParameterGroup> groups;
  private final OptimizerConfig config;
  private final boolean flatGradients;
  private final Map<String, String> kernels;
  private long step;
  /** 1/min(1, maxNorm/norm) from the last {@link #clipGradients}, applied by the next {@link #step}. */
  private Tensor pendingScale;

  AdamW(List<ParameterGroup> groups, OptimizerConfig config, boolean flatGradients, UpdatePaths paths) {
    this.groups = List.copyOf(groups);
    this.config = config;
    this.flatGradients = flatGradients;
    this.kernels = paths.report(copies());
  }

  /** A builder of an optimizer with the settings of {@code resolved}: fused kernel where libtorch has it. */
  public static AdamWBuilder builder(OptimizerConfig resolved) {
    return new AdamWBuilder(resolved);
  }

  /** How many tensors the optimizer keeps bfloat16 copies of. */
  public int copies() {
    return groups.stream().mapToInt(ParameterGroup::copies).sum();
  }

  /**
   * What this optimizer runs, for the first metrics line: {@code adamw} ({@code fused}, or {@code tensor operations}
   * with the reason) and {@code bf16_copies} ({@code N tensors}, or {@code off} with the reason).
   */
  public Map<String, String> kernels() {
    return kernels;
  }

  /** Steps taken so far (restored from a checkpoint with {@link #restore}). */
  public long steps() {
    return step;
  }

  /** Names of the optimized tensors, in order. */
  public List<String> names() {
    List<String> names = new ArrayList<>();
    groups.forEach(g -> g.slots().forEach(s -> names.add(s.parameter().name())));
    return names;
  }

  /** Group sizes as {@code "decay"/"no_decay"} per lr_scale, for the summary. */
  public Map<String, Integer> groups() {
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (ParameterGroup g : groups) {
      sizes.merge((g.decay() ? "decay" : "no_decay") + " x" + g.lrScale(), g.slots().size(), Integer::sum);
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
      for (ParameterGroup g : groups) {
        norms.add(g.gradientNorm());
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
   * last {@link #clipGradients} asked, each group by its own update path.
   */
  public void step(double learningRate) {
    step++;
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (ParameterGroup g : groups) {
        g.stepCount().add_(new Scalar(1.0));
        g.update(new UpdateStep(learningRate * g.lrScale(), g.decay() ? config.weightDecay() : 0.0, config.beta1(),
            config.beta2(), config.epsilon(), step, pendingScale));
      }
    }
    setPendingScale(null);
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
        groups.forEach(g -> sync.average(g.flatGradientBuffer()));
      }
    }
  }

  /**
   * Clears every gradient, so the next backward starts from nothing: flat gradients are zeroed in place, autograd's
   * own are dropped (undefined) and the next backward pass hands over new ones.
   */
  public void zeroGradients() {
    groups.forEach(ParameterGroup::zeroGradients);
  }

  /**
   * From now on {@link #zeroGradients} zeroes every gradient in place instead of dropping it, so that the next
   * backward pass adds into the same tensors: what a backward recorded once and replayed needs, without the flat
   * gradient buffers that rule the bf16 weight copies out.
   */
  public void keepGradients() {
    groups.forEach(ParameterGroup::keepGradients);
  }

  /** The moments by name: {@code exp_avg.<tensor>} and {@code exp_avg_sq.<tensor>}, views of the flat buffers. */
  public Map<String, Tensor> state() {
    Map<String, Tensor> state = new LinkedHashMap<>();
    for (ParameterGroup g : groups) {
      for (Slot s : g.slots()) {
        state.put("exp_avg." + s.parameter().name(), g.expAvg(s));
        state.put("exp_avg_sq." + s.parameter().name(), g.expAvgSq(s));
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
      for (ParameterGroup g : groups) {
        g.stepCount().fill_(new Scalar((double) steps));
      }
    }
    this.step = steps;
    weightsChanged();
  }

  /** Rewrites the bfloat16 copies from the weights: call it after changing optimized weights from outside. */
  public void weightsChanged() {
    try (NoGradGuard noGrad = new NoGradGuard()) {
      groups.forEach(ParameterGroup::weightsChanged);
    }
  }
}
