package org.fastllm.modules.autograd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GradMode;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorBase;
import org.bytedeco.pytorch.TensorTensorHook;
import org.bytedeco.pytorch.VoidTensorHook;
import org.bytedeco.pytorch.global.torch;

/**
 * Gives an operation computed outside autograd (a hand-written kernel) its own backward: the output is returned
 * connected to the inputs, and when the loss's gradient reaches it, {@code backward} runs once on d loss / d output
 * and each of its results is added to the matching input's gradient.
 *
 * <pre>{@code
 * // given Tensor kernelOutput, Tensor u, Tensor delta, UnaryOperator<Tensor> du, UnaryOperator<Tensor> ddelta
 * Tensor y = ExternalBackward.attach(kernelOutput, List.of(u, delta),
 *     dy -> new Tensor[] {du.apply(dy), ddelta.apply(dy)});
 * }</pre>
 *
 * <p>How: the output gets {@code 0 x} the sum of each input added (so autograd sends a gradient to every input,
 * adding nothing of its own; a non-finite input makes the output NaN, as the step would diverge anyway), a hook on
 * the output computes the inputs' gradients, and a hook on each input adds its share. A sum's gradient is a
 * broadcast view that costs no memory: where nothing else uses an input, its hook hands over the computed gradient
 * as it is, with no zero tensor the input's size made and added to (a one-element view as the link cost both). The
 * presets bind tensor hooks but no custom autograd functions, and a hook receives only a gradient, so the hooks
 * are a few shared instances and calls are matched by order. The input hooks sit on a view of each input made by
 * the call ({@code view_as}), not on the input itself: autograd runs the nodes of one device from the last made
 * (every node's gradient comes from nodes made after it), so the hooks on a call's output and on its views run in
 * the reverse order of the calls, whatever the inputs were made from; and nothing stays registered on an input
 * that outlives the step (a parameter), where a hook per call would run again at every later backward. A model's
 * forward starts with {@link #forgetPending()}, which drops the calls of a forward whose backward never ran.
 */
public final class ExternalBackward {
  /** The most inputs one operation may have. */
  public static final int MAX_INPUTS = 8;
  /**
   * The link is each input's sum (one read of it in the forward; a gradient that costs nothing), or with
   * {@code -Dfastllm.sumLink=false} its first element (nothing in the forward; a zero tensor of its size in the
   * backward, added to): kept switchable for comparisons.
   */
  private static final boolean SUM_LINK = !"false".equals(System.getProperty("fastllm.sumLink"));

  /** Computes d loss / d input for each input from d loss / d output; an entry may be {@code null}. */
  @FunctionalInterface
  public interface Backward {
    Tensor[] apply(Tensor gradOutput);
  }

  private static final Object LOCK = new Object();
  private static final Deque<Call> OUTPUTS = new ArrayDeque<>();
  private static final List<Deque<Call>> INPUTS = new ArrayList<>();
  private static final List<Pointer> RETURNED = new ArrayList<>();
  private static final OutputHook OUTPUT_HOOK = new OutputHook();
  private static final InputHook[] INPUT_HOOKS = new InputHook[MAX_INPUTS];
  private static long inputHookCalls;

  static {
    for (int i = 0; i < MAX_INPUTS; i++) {
      INPUTS.add(new ArrayDeque<>());
      INPUT_HOOKS[i] = new InputHook(i);
    }
    // The hooks live as long as the process: this class may first load inside a training step's PointerScope,
    // whose closing would otherwise free them under the next step's autograd.
    OUTPUT_HOOK.retainReference();
    for (InputHook hook : INPUT_HOOKS) {
      hook.retainReference();
    }
  }

  private ExternalBackward() {}

  /**
   * {@code output}, computed without autograd from {@code inputs}, with the same values and {@code backward} as its
   * gradient. Returns {@code output} itself when autograd is off or no input requires a gradient. {@code backward}
   * may read tensors made before the model's forward (weights, tables) and, through {@link #attach(Tensor, List,
   * List, Backward)}, saved ones; not other tensors of the forward, which are released when their layer returns.
   */
  public static Tensor attach(Tensor output, List<Tensor> inputs, Backward backward) {
    return attach(output, inputs, List.of(), backward);
  }

  /**
   * As {@link #attach(Tensor, List, Backward)}, keeping {@code saved} (tensors {@code backward} reads, made during
   * the forward) alive until the backward ran or the call was forgotten: a model runs each layer's forward in a
   * pointer scope of its own, so the layer's tensors are released when it returns, as Python would drop them.
   */
  public static Tensor attach(Tensor output, List<Tensor> inputs, List<Tensor> saved, Backward backward) {
    if (inputs.size() > MAX_INPUTS) {
      throw new IllegalArgumentException("at most " + MAX_INPUTS + " inputs, got " + inputs.size());
    }
    if (!GradMode.is_enabled() || inputs.stream().noneMatch(Tensor::requires_grad)) {
      return output;
    }
    Call call = new Call(backward, output.sizes().vec().get(), inputs.size(), saved);
    Tensor link = null;
    synchronized (LOCK) {
      for (int i = 0; i < inputs.size(); i++) {
        Tensor input = inputs.get(i);
        if (input.requires_grad() && input.numel() > 0) {
          Tensor view = input.view_as(input);   // this call's own node (see the class comment)
          Tensor joint = SUM_LINK ? view.sum() : view.as_strided(new long[] {}, new long[] {});
          link = link == null ? joint : link.add(joint);
          view.register_hook(INPUT_HOOKS[i]);
          call.dtypes[i] = input.scalar_type().intern();
          INPUTS.get(i).push(call);
        }
      }
      if (link == null) {
        call.releaseSaved();
        return output;   // only empty inputs want a gradient: they get none
      }
      // output + 0 x link: the inputs join the graph with gradient exactly zero, in one pass
      Tensor connected = output.add(link.to(output.scalar_type()), new Scalar(0.0));
      connected.register_hook(OUTPUT_HOOK);
      OUTPUTS.push(call);
      return connected;
    }
  }

  /** Whether {@code gradient} is the link's zero alone: a broadcast view, which any other use would have replaced. */
  private static boolean linkOnly(Tensor gradient) {
    if (!gradient.defined()) {
      return true;
    }
    for (long i = 0; i < gradient.dim(); i++) {
      if (gradient.stride(i) != 0 && gradient.size(i) > 1) {
        return false;
      }
    }
    return gradient.numel() > 1;
  }

  /** Drops calls whose backward never ran and the gradients handed to autograd; a model's forward calls this. */
  public static void forgetPending() {
    synchronized (LOCK) {
      for (Call call : OUTPUTS) {
        call.release();
      }
      OUTPUTS.clear();
      for (Deque<Call> calls : INPUTS) {
        calls.forEach(Call::release);
        calls.clear();
      }
      releaseReturned();
    }
  }

  /** Calls waiting for their backward (a diagnostic: 0 after every complete forward and backward). */
  public static int pending() {
    synchronized (LOCK) {
      return OUTPUTS.size();
    }
  }

  /** How many times an input's hook has run in this process (a diagnostic: one per input per call). */
  static long inputHookCalls() {
    synchronized (LOCK) {
      return inputHookCalls;
    }
  }

  /** Takes {@code p} out of {@code scope} alive (detaching alone would release the scope's reference). */
  private static void keep(PointerScope scope, Pointer p) {
    p.retainReference();
    scope.detach(p);
  }

  private static void releaseReturned() {
    RETURNED.forEach(Pointer::close);
    RETURNED.clear();
  }

  private static final class Call {
    final Backward backward;
    final long[] outputShape;
    final Tensor[] gradients;
    final torch.ScalarType[] dtypes;
    /** The saved handles, each with a reference of this call's: closing their pointer scope does not free them. */
    final List<Tensor> saved = new ArrayList<>();

    Call(Backward backward, long[] outputShape, int inputs, List<Tensor> saved) {
      this.backward = backward;
      this.outputShape = outputShape;
      this.gradients = new Tensor[inputs];
      this.dtypes = new torch.ScalarType[inputs];
      for (Tensor t : saved) {
        t.retainReference();
        this.saved.add(t);
      }
    }

    void releaseSaved() {
      saved.forEach(Tensor::releaseReference);
      saved.clear();
    }

    void release() {
      releaseSaved();
      for (int i = 0; i < gradients.length; i++) {
        if (gradients[i] != null) {
          gradients[i].close();
          gradients[i] = null;
        }
      }
    }
  }

  /**
   * A hook's argument is JavaCPP's own copy of the gradient (the presets pass it by value), owned by the Java
   * object and otherwise freed only when the garbage collector finds it: each hook closes it when done. Left to the
   * collector, the gradients of the hooked tensors piled up on the GPU, about one input's size per call and step.
   */
  private static final class OutputHook extends VoidTensorHook {
    @Override
    public void call(TensorBase gradient) {
      try {
        run(gradient);
      } finally {
        gradient.close();   // see the class comment
      }
    }

    private void run(TensorBase gradient) {
      synchronized (LOCK) {
        releaseReturned();
        Call call = OUTPUTS.poll();
        try (PointerScope scope = new PointerScope()) {
          Tensor dOutput = new Tensor(gradient);
          long[] shape = dOutput.sizes().vec().get();
          if (call == null || !Arrays.equals(shape, call.outputShape)) {
            throw new IllegalStateException("a hand-written kernel's gradient arrived out of order (shape "
                + Arrays.toString(shape) + ", expected " + (call == null ? "none" : Arrays.toString(call.outputShape))
                + "); run each model forward's backward before the next forward");
          }
          Tensor[] gradients = call.backward.apply(dOutput);
          call.releaseSaved();
          for (int i = 0; i < call.gradients.length && i < gradients.length; i++) {
            if (gradients[i] != null) {
              keep(scope, gradients[i]);
              call.gradients[i] = gradients[i];
            }
          }
        }
      }
    }
  }

  private static final class InputHook extends TensorTensorHook {
    private final int position;

    InputHook(int position) {
      this.position = position;
    }

    @Override
    public TensorBase call(TensorBase gradient) {
      try {
        return run(gradient);
      } finally {
        gradient.close();   // see OutputHook
      }
    }

    private TensorBase run(TensorBase gradient) {
      synchronized (LOCK) {
        inputHookCalls++;
        releaseReturned();
        Call call = INPUTS.get(position).poll();
        Tensor own = call == null ? null : call.gradients[position];
        try (PointerScope scope = new PointerScope()) {
          Tensor incoming = new Tensor(gradient);
          Tensor total;
          if (own == null) {
            total = incoming;
          } else {
            Tensor mine = own.to(call.dtypes[position]);
            total = linkOnly(incoming) ? mine : incoming.add(mine);
          }
          keep(scope, total);
          RETURNED.add(total);
          if (own != null) {
            own.close();
            call.gradients[position] = null;
          }
          return total;
        }
      }
    }
  }
}
