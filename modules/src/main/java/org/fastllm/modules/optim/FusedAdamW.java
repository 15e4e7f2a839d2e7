package org.fastllm.modules.optim;

import java.util.List;
import org.bytedeco.pytorch.Dispatcher;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorType;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.Type;

/**
 * libtorch's fused AdamW kernel ({@code aten::_fused_adamw_}, the one behind {@code torch.optim.AdamW(fused=True)})
 * and its multi-tensor norm ({@code aten::_foreach_norm}), called by name through the dispatcher since they have no
 * Java binding: one pass over parameters, gradients and both moments instead of about ten.
 *
 * <pre>{@code
 * // given List<Tensor> params, List<Tensor> expAvgs, List<Tensor> expAvgSqs, Tensor stepCount
 * // given List<Tensor> grads, double lr, Tensor gradScale
 * IValue[] lists = FusedAdamW.lists(params, null, expAvgs, expAvgSqs, stepCount);   // once
 * // each step: add 1 to stepCount, then
 * FusedAdamW.step(lists, FusedAdamW.list(params.get(0), grads), lr, 0.9, 0.95, 0.1, 1e-8, gradScale);
 * }</pre>
 *
 * <p><b>The kernel reads the step from {@code stepCount}; the caller increments it before each call.</b> The
 * gradients it uses are the given ones divided by {@code gradScale} (a one-element float tensor on the device, or
 * null for none), which is how clipping costs no pass of its own.
 */
final class FusedAdamW {
  private static final OperatorHandle KERNEL = lookup("aten::_fused_adamw_", "");
  private static final OperatorHandle NORM = lookup("aten::_foreach_norm", "Scalar");
  private static final OperatorHandle ZERO = lookup("aten::_foreach_zero_", "");
  /** Whether this libtorch has the kernel; without it the optimizer falls back to tensor operations. */
  static final boolean AVAILABLE = KERNEL != null;

  private FusedAdamW() {}

  private static OperatorHandle lookup(String name, String overload) {
    try {
      return Dispatcher.singleton().findSchemaOrThrow(name, overload);
    } catch (RuntimeException | LinkageError missing) {
      return null;
    }
  }

  /**
   * The kernel's list arguments that never change (params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs,
   * state_steps), kept alive beyond any pointer scope; {@code grads} null leaves that slot empty, for gradients that
   * change every step. Every tensor of a list shares one dtype and device; {@code stepCount} stands for each
   * tensor's step, as all of them step together.
   */
  static IValue[] lists(List<Tensor> params, List<Tensor> grads, List<Tensor> expAvgs, List<Tensor> expAvgSqs,
      Tensor stepCount) {
    Tensor first = params.get(0);
    IValue[] lists = {list(first, params), grads == null ? null : list(first, grads), list(first, expAvgs),
        list(first, expAvgSqs), list(first, List.of()),
        list(first, java.util.Collections.nCopies(params.size(), stepCount))};
    for (IValue l : lists) {
      if (l != null) {
        l.retainReference();
      }
    }
    return lists;
  }

  /** A list value typed as a list of tensors, as the kernel's {@code Tensor[]} arguments require. */
  static IValue list(Tensor typeOf, List<Tensor> tensors) {
    GenericList list = new GenericList(new Type.TypePtr(TensorType.create(typeOf)));
    for (Tensor t : tensors) {
      list.push_back(new IValue(t));
    }
    return new IValue(list);
  }

  /**
   * One fused update of the group whose lists are given, with these gradients (decoupled weight decay
   * {@code weightDecay}); gradients divided by {@code gradScale} unless it is null.
   */
  static void step(IValue[] lists, IValue grads, double lr, double beta1, double beta2, double weightDecay,
      double epsilon, Tensor gradScale) {
    IValueVector stack = new IValueVector(lists[0], grads, lists[2], lists[3], lists[4], lists[5], new IValue(lr),
        new IValue(beta1), new IValue(beta2), new IValue(weightDecay), new IValue(epsilon), new IValue(false),
        new IValue(false), gradScale == null ? new IValue() : new IValue(gradScale), new IValue());
    KERNEL.callBoxed(stack);
  }

  /** Zeroes each of {@code tensors} (one dtype) in place, in one multi-tensor pass where libtorch has one. */
  static void zero(List<Tensor> tensors) {
    if (tensors.isEmpty()) {
      return;
    }
    if (ZERO == null) {
      tensors.forEach(Tensor::zero_);
      return;
    }
    ZERO.callBoxed(new IValueVector(list(tensors.get(0), tensors)));
  }

  /**
   * The L2 norm of each tensor in type {@code result} (computed from the values as they are, without a copy in
   * that type), in one multi-tensor pass where libtorch has one.
   */
  static TensorVector norms(Tensor typeOf, List<Tensor> tensors, org.bytedeco.pytorch.global.torch.ScalarType result) {
    if (NORM == null) {
      TensorVector norms = new TensorVector();
      tensors.forEach(t -> norms.push_back(t.to(result).norm()));
      return norms;
    }
    IValueVector stack = new IValueVector(list(typeOf, tensors), new IValue(2.0), new IValue(result));
    NORM.callBoxed(stack);
    return stack.get(0).toTensorVector();
  }
}
