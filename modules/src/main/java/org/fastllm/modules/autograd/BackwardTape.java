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
import org.fastllm.modules.experiment.ExperimentFlags;

/**
 * Gives operations computed outside autograd (hand-written kernels) their own backward, for one model: an output is
 * returned connected to its inputs, and when the loss's gradient reaches it, {@code backward} runs once on
 * d loss / d output and each of its results is added to the matching input's gradient.
 *
 * <pre>{@code
 * // given LayerContext context, Tensor kernelOutput, Tensor u, Tensor delta, UnaryOperator<Tensor> du, UnaryOperator<Tensor> dd
 * BackwardTape tape = context.tape();   // the model's, from the LayerContext its layers are built with
 * Tensor y = tape.attach(kernelOutput, List.of(u, delta), dy -> new Tensor[] {du.apply(dy), dd.apply(dy)});
 * }</pre>
 *
 * <p><b>Each model owns one tape</b> ({@code LanguageModel} makes it and hands it to its layers): the calls of one
 * model's forward wait on its own tape, so two models in one process may run their forwards and backwards in any
 * interleaving. A model's forward starts with {@link #forgetPending()}, which drops the calls of its previous
 * forward whose backward never ran (an evaluation pass, an exception).
 *
 * <p>How: the output gets {@code 0 x} the sum of each input added (so autograd sends a gradient to every input,
 * adding nothing of its own; a non-finite input makes the output NaN, as the step would diverge anyway), a hook on
 * the output computes the inputs' gradients, and a hook on each input adds its share. A sum's gradient is a
 * broadcast view that costs no memory: where nothing else uses an input, its hook hands over the computed gradient
 * as it is, with no zero tensor the input's size made and added to (a one-element view as the link cost both; the
 * experiment flag {@code sumLink=false} picks it, for comparisons). The presets bind tensor hooks but no custom
 * autograd functions, and a hook receives only a gradient, so the hooks are a few instances per tape and calls are
 * matched by order. The input hooks sit on a view of each input made by the call ({@code view_as}), not on the
 * input itself: autograd runs the nodes of one device from the last made (every node's gradient comes from nodes
 * made after it), so the hooks on a call's output and on its views run in the reverse order of the calls, whatever
 * the inputs were made from; and nothing stays registered on an input that outlives the step (a parameter), where a
 * hook per call would run again at every later backward.
 *
 * <p>One class of about 300 lines on purpose: the output hook, the input hooks, their queues and the matching by
 * order are one protocol whose invariants (a call is queued where its hooks are registered, and released in the
 * same place) read best in one file.
 */
public final class BackwardTape {
  /** The most inputs one operation may have. */
  public static final int MAX_INPUTS = 8;

  /** Computes d loss / d input for each input from d loss / d output; an entry may be {@code null}. */
  @FunctionalInterface
  public interface Backward {
    Tensor[] apply(Tensor gradOutput);
  }

  /**
   * The link is each input's sum (one read of it in the forward; a gradient that costs nothing), or its first
   * element (nothing in the forward; a zero tensor of its size in the backward, added to).
   */
  private final boolean sumLink;
  private final Object lock = new Object();
  private final Deque<Call> outputs = new ArrayDeque<>();
  private final List<Deque<Call>> inputCalls = new ArrayList<>();
  private final List<Pointer> returned = new ArrayList<>();
  private final OutputHook outputHook = new OutputHook();
  private final InputHook[] inputHooks = new InputHook[MAX_INPUTS];
  private long inputHookCalls;

  /** A tape linking by each input's sum, unless the experiment flag {@code sumLink} is false. */
  public BackwardTape() {
    this(ExperimentFlags.current().sumLink());
  }

  BackwardTape(boolean sumLink) {
    this.sumLink = sumLink;
    for (int i = 0; i < MAX_INPUTS; i++) {
      inputCalls.add(new ArrayDeque<>());
      inputHooks[i] = new InputHook(i);
    }
    // The hooks live as long as the tape's model: a tape may be made inside a pointer scope (a training step's),
    // whose closing would otherwise free them under the next step's autograd.
    outputHook.retainReference();
    for (InputHook hook : inputHooks) {
      hook.retainReference();
    }
  }

  /**
   * {@code output}, computed without autograd from {@code inputs}, with the same values and {@code backward} as its
   * gradient. Returns {@code output} itself when autograd is off or no input requires a gradient. {@code backward}
   * may read tensors made before the model's forward (weights, tables) and, through {@link #attach(Tensor, List,
   * List, Backward)}, saved ones; not other tensors of the forward, which are released when their layer returns.
   */
  public Tensor attach(Tensor output, List<Tensor> inputs, Backward backward) {
    return attach(output, inputs, List.of(), backward);
  }

  /**
   * As {@link #attach(Tensor, List, Backward)}, keeping {@code saved} (tensors {@code backward} reads, made during
   * the forward) alive until the backward ran or the call was forgotten: a model runs each layer's forward in a
   * pointer scope of its own, so the layer's tensors are released when it returns, as Python would drop them.
   */
  public Tensor attach(Tensor output, List<Tensor> inputs, List<Tensor> saved, Backward backward) {
    if (inputs.size() > MAX_INPUTS) {
      throw new IllegalArgumentException("at most " + MAX_INPUTS + " inputs, got " + inputs.size());
    }
    if (!GradMode.is_enabled() || inputs.stream().noneMatch(Tensor::requires_grad)) {
      return output;
    }
    Call call = new Call(backward, output.sizes().vec().get(), inputs.size(), saved);
    Tensor link = null;
    synchronized (lock) {
      for (int i = 0; i < inputs.size(); i++) {
        Tensor input = inputs.get(i);
        if (input.requires_grad() && input.numel() > 0) {
          Tensor view = input.view_as(input);   // this call's own node (see the class comment)
          Tensor joint = sumLink ? view.sum() : view.as_strided(new long[] {}, new long[] {});
          link = link == null ? joint : link.add(joint);
          view.register_hook(inputHooks[i]);
          call.dtypes[i] = input.scalar_type().intern();
          inputCalls.get(i).push(call);
        }
      }
      if (link == null) {
        call.releaseSaved();
        return output;   // only empty inputs want a gradient: they get none
      }
      // output + 0 x link: the inputs join the graph with gradient exactly zero, in one pass
      Tensor connected = output.add(link.to(output.scalar_type()), new Scalar(0.0));
      connected.register_hook(outputHook);
      outputs.push(call);
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

  /** Drops calls whose backward never ran and the gradients handed to autograd; the model's forward calls this. */
  public void forgetPending() {
    synchronized (lock) {
      for (Call call : outputs) {
        call.release();
      }
      outputs.clear();
      for (Deque<Call> calls : inputCalls) {
        calls.forEach(Call::release);
        calls.clear();
      }
      releaseReturned();
    }
  }

  /** Calls waiting for their backward (a diagnostic: 0 after every complete forward and backward). */
  public int pending() {
    synchronized (lock) {
      return outputs.size();
    }
  }

  /** How many times this tape's input hooks have run (a diagnostic: one per input per call). */
  long inputHookCalls() {
    synchronized (lock) {
      return inputHookCalls;
    }
  }

  /** Takes {@code p} out of {@code scope} alive (detaching alone would release the scope's reference). */
  private static void keep(PointerScope scope, Pointer p) {
    p.retainReference();
    scope.detach(p);
  }

  private void releaseReturned() {
    returned.forEach(Pointer::close);
    returned.clear();
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
  private final class OutputHook extends VoidTensorHook {
    @Override
    public void call(TensorBase gradient) {
      try {
        run(gradient);
      } finally {
        gradient.close();   // see the class comment
      }
    }

    private void run(TensorBase gradient) {
      synchronized (lock) {
        releaseReturned();
        Call call = outputs.poll();
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
            // only an input that wants a gradient has a hook to hand it over; the others' go with the scope
            // (kept, a frozen input's gradient stayed on the device, one per call and step)
            if (gradients[i] != null && call.dtypes[i] != null) {
              keep(scope, gradients[i]);
              call.gradients[i] = gradients[i];
            }
          }
        }
      }
    }
  }

  private final class InputHook extends TensorTensorHook {
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
      synchronized (lock) {
        inputHookCalls++;
        releaseReturned();
        Call call = inputCalls.get(position).poll();
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
          returned.add(total);
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
