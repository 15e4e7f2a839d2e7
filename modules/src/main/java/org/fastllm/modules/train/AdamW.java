package org.fastllm.modules.train;

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
import org.fastllm.modules.stack.NamedParameter;

/**
 * AdamW (decoupled weight decay, as {@code torch.optim.AdamW}) written in tensor ops so that each tensor carries its
 * own group settings: weight decay only where the model marks it, the learning rate times its block's
 * {@code lr_scale}.
 *
 * <pre>{@code
 * AdamW adam = new AdamW(model.uniqueParameters(), config.optimizer());
 * loss.backward(); double norm = adam.clipGradients(1.0); adam.step(schedule.at(step)); adam.zeroGradients();
 * }</pre>
 *
 * <p><b>Tensors with {@code lr_scale} 0 or without gradients are never touched</b>, so they stay bit-identical.
 * Pass each tensor once ({@code uniqueParameters()}), or a shared tensor is stepped twice.
 */
public final class AdamW {
  private final List<Slot> slots = new ArrayList<>();
  private final OptimizerConfig config;
  private long step;

  /** One optimized tensor with its moments and its group's settings. */
  private record Slot(NamedParameter parameter, Tensor expAvg, Tensor expAvgSq) {}

  public AdamW(List<NamedParameter> parameters, OptimizerConfig resolved) {
    this.config = resolved;
    for (NamedParameter p : parameters) {
      if (p.trainable() && p.lrScale() > 0) {
        slots.add(new Slot(p, torch.zeros_like(p.tensor()), torch.zeros_like(p.tensor())));
      }
    }
  }

  /** Steps taken so far (restored from a checkpoint with {@link #restore}). */
  public long steps() {
    return step;
  }

  /** Names of the optimized tensors, in order. */
  public List<String> names() {
    return slots.stream().map(s -> s.parameter().name()).toList();
  }

  /** Group sizes as {@code "decay"/"no_decay"} per lr_scale, for the summary. */
  public Map<String, Integer> groups() {
    Map<String, Integer> groups = new LinkedHashMap<>();
    for (Slot s : slots) {
      String key = (s.parameter().weightDecay() ? "decay" : "no_decay") + " x" + s.parameter().lrScale();
      groups.merge(key, 1, Integer::sum);
    }
    return groups;
  }

  /**
   * Scales gradients so their global L2 norm is at most {@code maxNorm} (0: no clipping) and returns the norm
   * before clipping.
   */
  public double clipGradients(double maxNorm) {
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      List<Tensor> norms = new ArrayList<>();
      for (Slot s : slots) {
        Tensor grad = s.parameter().tensor().grad();
        if (grad.defined()) {
          norms.add(grad.norm());
        }
      }
      if (norms.isEmpty()) {
        return 0.0;
      }
      double total = torch.stack(new TensorVector(norms.toArray(Tensor[]::new))).norm().item_double();
      if (maxNorm > 0 && total > maxNorm) {
        Scalar factor = new Scalar(maxNorm / (total + 1e-6));
        for (Slot s : slots) {
          Tensor grad = s.parameter().tensor().grad();
          if (grad.defined()) {
            grad.mul_(factor);
          }
        }
      }
      return total;
    }
  }

  /** One AdamW update of every tensor that has a gradient, at base rate {@code learningRate}. */
  public void step(double learningRate) {
    step++;
    double beta1 = config.beta1();
    double beta2 = config.beta2();
    double correction1 = 1 - Math.pow(beta1, step);
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      for (Slot s : slots) {
        Tensor p = s.parameter().tensor();
        Tensor grad = p.grad();
        if (!grad.defined()) {
          continue;
        }
        double lr = learningRate * s.parameter().lrScale();
        if (s.parameter().weightDecay() && config.weightDecay() > 0) {
          p.mul_(new Scalar(1 - lr * config.weightDecay()));
        }
        s.expAvg().mul_(new Scalar(beta1)).add_(grad, new Scalar(1 - beta1));
        s.expAvgSq().mul_(new Scalar(beta2)).addcmul_(grad, grad, new Scalar(1 - beta2));
        Tensor denom = s.expAvgSq().sqrt().div(new Scalar(sqrtCorrection2)).add_(new Scalar(config.epsilon()));
        p.addcdiv_(s.expAvg(), denom, new Scalar(-lr / correction1));
      }
    }
  }

  /** Zeroes every gradient in place, so the next backward starts from nothing. */
  public void zeroGradients() {
    for (Slot s : slots) {
      Tensor grad = s.parameter().tensor().mutable_grad();
      if (grad.defined()) {
        grad.zero_();
      }
    }
  }

  /** The moments by name: {@code exp_avg.<tensor>} and {@code exp_avg_sq.<tensor>}. */
  public Map<String, Tensor> state() {
    Map<String, Tensor> state = new LinkedHashMap<>();
    for (Slot s : slots) {
      state.put("exp_avg." + s.parameter().name(), s.expAvg());
      state.put("exp_avg_sq." + s.parameter().name(), s.expAvgSq());
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
    }
    this.step = steps;
  }
}
