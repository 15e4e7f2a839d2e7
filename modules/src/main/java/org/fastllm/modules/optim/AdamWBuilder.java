package org.fastllm.modules.optim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.modules.experiment.ExperimentFlags;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.stack.NamedParameter;

/**
 * Builds an {@link AdamW}: which update paths it may run, then the tensors it optimizes.
 *
 * <pre>{@code
 * // given ConfigDocument config, KernelsConfig kernels, boolean cuda, boolean bf16, int processes, int accumulation
 * // given LanguageModel model
 * AdamWBuilder optimizer = AdamW.builder(config.optimizer())
 *     .fusedKernel(kernels.adamw())                                   // training.kernels.adamw
 *     .flatGradients(processes > 1)
 *     .bf16Copies(kernels.bf16Copies(), new CopyConditions(cuda, bf16, processes, accumulation))
 *     .check();                                                       // before the model exists
 * AdamW adam = optimizer.build(model.uniqueParameters(), model.singleUseLinears());
 * }</pre>
 *
 * <p>By default: the fused kernel where libtorch has it ({@code auto}), autograd's own gradients, no copies.
 * <b>A choice {@code on} whose path cannot run fails {@link #check} and {@link #build} with the key and the
 * reason</b>; {@code auto} falls back, and {@link AdamW#kernels} says what runs.
 */
public final class AdamWBuilder {
  private final OptimizerConfig config;
  private KernelChoice fusedKernel = KernelChoice.AUTO;
  private boolean flatGradients;
  private KernelChoice bf16Copies = KernelChoice.OFF;
  /** What the copies need of the run; null where the caller vouches for it. */
  private CopyConditions copyConditions;

  /** Tensors that share a group: decay flag, rate scale, dtype, device and whether they have copies. */
  private record GroupKey(boolean decay, double lrScale, torch.ScalarType dtype, String device, boolean copies) {}

  /** A group's tensors as they are gathered, and the layers that read their copies. */
  private record GroupPlan(GroupKey key, List<Slot> slots, List<Linear> layers) {}

  AdamWBuilder(OptimizerConfig resolved) {
    this.config = resolved;
  }

  /**
   * {@code training.kernels.adamw}: {@code auto} runs libtorch's fused kernel where this libtorch has it and tensor
   * operations elsewhere, {@code on} requires the kernel, {@code off} always runs tensor operations.
   */
  public AdamWBuilder fusedKernel(KernelChoice choice) {
    this.fusedKernel = choice;
    return this;
  }

  /**
   * Every group's gradients live in one buffer, for one all-reduce per group in a data parallel run; the experiment
   * flag {@code -Dfastllm.flatGradients=true} asks for it everywhere. No bfloat16 copies then.
   */
  public AdamWBuilder flatGradients(boolean flat) {
    this.flatGradients = flat;
    return this;
  }

  /**
   * {@code training.kernels.bf16_copies}: bfloat16 copies of the float32 weights of the linear layers given to
   * {@link #build(List, List)}, where the run meets {@code conditions} ({@code auto}) or must meet them ({@code on}).
   */
  public AdamWBuilder bf16Copies(KernelChoice choice, CopyConditions conditions) {
    this.bf16Copies = choice;
    this.copyConditions = conditions;
    return this;
  }

  /**
   * As {@link #bf16Copies(KernelChoice, CopyConditions)} for a caller that runs the layers under CUDA bf16
   * autocast itself (device checks, tests): only flat gradients rule the copies out.
   */
  public AdamWBuilder bf16Copies(KernelChoice choice) {
    return bf16Copies(choice, null);
  }

  /**
   * Fails where a choice {@code on} cannot run, naming the key and the reason; call it before allocating anything.
   *
   * @throws IllegalArgumentException with {@code training.kernels.<key> is on, but ...}
   */
  public AdamWBuilder check() {
    paths();
    return this;
  }

  /** The optimizer of {@code parameters}, without bfloat16 copies. */
  public AdamW build(List<NamedParameter> parameters) {
    return build(parameters, List.of());
  }

  /**
   * The optimizer of {@code parameters} (each tensor once), keeping bfloat16 copies of the float32 weights of
   * {@code copyCandidates} that are among the optimized tensors, where copies are chosen and can run.
   */
  public AdamW build(List<NamedParameter> parameters, List<Linear> copyCandidates) {
    UpdatePaths paths = paths();
    boolean flat = flatGradients();
    Map<Long, Linear> byWeight = new HashMap<>();
    if (paths.copies()) {
      for (Linear linear : copyCandidates) {
        if (linear.weight().scalar_type().intern() == torch.ScalarType.Float) {
          byWeight.put(linear.weight().unsafeGetTensorImpl().address(), linear);
        }
      }
    }
    Map<GroupKey, GroupPlan> plans = new LinkedHashMap<>();
    for (NamedParameter p : parameters) {
      if (p.trainable() && p.lrScale() > 0) {
        Tensor t = p.tensor();
        Linear layer = byWeight.get(t.unsafeGetTensorImpl().address());
        GroupKey key = new GroupKey(p.weightDecay(), p.lrScale(), t.scalar_type().intern(),
            t.device().str().getString(), layer != null);
        GroupPlan plan = plans.computeIfAbsent(key, k -> new GroupPlan(k, new ArrayList<>(), new ArrayList<>()));
        long offset = plan.slots().stream().mapToLong(Slot::numel).sum();
        plan.slots().add(new Slot(p, offset, t.numel()));
        if (layer != null) {
          plan.layers().add(layer);
        }
      }
    }
    List<ParameterGroup> groups = new ArrayList<>();
    try (NoGradGuard noGrad = new NoGradGuard()) {
      plans.values().forEach(plan -> groups.add(group(plan, paths.fused(), flat)));
    }
    return new AdamW(groups, config, flat, paths);
  }

  private static ParameterGroup group(GroupPlan plan, boolean fused, boolean flat) {
    GroupKey k = plan.key();
    if (k.copies()) {
      return new Bf16CopyGroup(k.decay(), k.lrScale(), plan.slots(), plan.layers());
    }
    return fused ? new FusedKernelGroup(k.decay(), k.lrScale(), plan.slots(), flat)
        : new TensorOperationsGroup(k.decay(), k.lrScale(), plan.slots(), flat);
  }

  private boolean flatGradients() {
    return flatGradients || ExperimentFlags.current().flatGradients();
  }

  private UpdatePaths paths() {
    return UpdatePaths.choose(fusedKernel, FusedAdamW.AVAILABLE, bf16Copies, copyConditions, flatGradients());
  }
}
