package org.fastllm.modules.train;

import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.Type;

/**
 * libtorch's fused AdamW kernel ({@code aten::_fused_adamw_}, the one behind {@code torch.optim.AdamW(fused=True)}),
 * called by name through the dispatcher since it has no Java binding: one pass over parameters, gradients and both
 * moments instead of about ten.
 *
 * <pre>{@code
 * IValue[] lists = FusedAdamW.lists(values, grads, expAvg, expAvgSq, stepCount);  // once
 * stepCount.add_(1); FusedAdamW.step(lists, lr, 0.9, 0.95, 0.1, 1e-8);             // every step
 * }</pre>
 *
 * <p><b>The kernel reads the step from {@code stepCount}; the caller increments it before each call.</b>
 */
final class FusedAdamW {
  private static final OperatorHandle KERNEL = lookup();
  /** Whether this libtorch has the kernel; without it the optimizer falls back to tensor operations. */
  static final boolean AVAILABLE = KERNEL != null && !Boolean.getBoolean("fastllm.adamw.unfused");

  private FusedAdamW() {}

  private static OperatorHandle lookup() {
    try {
      return Dispatcher.singleton().findSchemaOrThrow("aten::_fused_adamw_", "");
    } catch (RuntimeException | LinkageError missing) {
      return null;
    }
  }

  /**
   * The kernel's six list arguments (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps) for one
   * flat group, kept alive beyond any pointer scope: the tensors they hold never change.
   */
  static IValue[] lists(Tensor values, Tensor grads, Tensor expAvg, Tensor expAvgSq, Tensor stepCount) {
    IValue[] lists = {list(values, values), list(values, grads), list(values, expAvg), list(values, expAvgSq),
        list(values), list(values, stepCount)};
    for (IValue l : lists) {
      l.retainReference();
    }
    return lists;
  }

  /** A list value typed as a list of tensors, as the kernel's {@code Tensor[]} arguments require. */
  private static IValue list(Tensor typeOf, Tensor... tensors) {
    GenericList list = new GenericList(new Type.TypePtr(TensorType.create(typeOf)));
    for (Tensor t : tensors) {
      list.push_back(new IValue(t));
    }
    return new IValue(list);
  }

  /** One fused update of the group whose lists are given (decoupled weight decay {@code weightDecay}). */
  static void step(IValue[] lists, double lr, double beta1, double beta2, double weightDecay, double epsilon) {
    IValueVector stack = new IValueVector(lists[0], lists[1], lists[2], lists[3], lists[4], lists[5], new IValue(lr),
        new IValue(beta1), new IValue(beta2), new IValue(weightDecay), new IValue(epsilon), new IValue(false),
        new IValue(false), new IValue(), new IValue());
    KERNEL.callBoxed(stack);
  }
}
