package org.fastllm.modules.train;

import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.KernelChoice;
import org.fastllm.dsl.config.KernelsConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.modules.cuda.CudaGraph;
import org.fastllm.modules.data.BatchSampler;
import org.fastllm.modules.experiment.ExperimentFlags;
import org.fastllm.modules.layer.KeptTensor;
import org.fastllm.modules.stack.LanguageModel;

/**
 * A micro-batch's forward and backward on a GPU, recorded once as a CUDA graph and replayed for every later one:
 * a step of a small model is thousands of short kernels, and launching them one by one keeps the GPU waiting for
 * the host. The first {@value #EAGER_FIRST} micro-batches run eagerly (kernels compiled, libraries and buffers
 * ready); the next is recorded and replayed, and each after it is copied into the recorded inputs and replayed.
 *
 * <pre>{@code
 * // given LanguageModel model, BatchSampler.Batch batch
 * StepGraph graph = new StepGraph(model, 1, null);   // null: nothing keeps it from recording
 * Tensor loss = graph.lossAndGradients(batch);         // the micro-batch's loss, its gradients accumulated
 * }</pre>
 *
 * <p>A replayed backward accumulates into the gradient tensors the recording saw, so the optimizer keeps them:
 * flat gradients, zeroed in place between steps, or autograd's own, zeroed in place too ({@code AdamW.keepGradients}),
 * which keeps the bf16 weight copies on: those where the single-use linear weights hold at least
 * {@value #KEEP_GRADIENTS_FROM} parameters (on a 1.1B GPT the copies' saved casts gain 2.4%; on a 162M one the
 * per-tensor updates they need cost as much as they save) or {@code training.kernels.bf16_copies} is {@code on}, or
 * as {@code -Dfastllm.graphKeepsGradients} says. The clipping and the update run eagerly after it. The loss of a
 * replay agrees with the eager step's to rounding. Where a graph is not used ({@link #unavailable}), every
 * micro-batch runs eagerly and {@link #outcome} says why.
 */
final class StepGraph implements AutoCloseable {
  /** The micro-batches run eagerly before the recording. */
  static final int EAGER_FIRST = 2;
  /** What the kernel report says of the graph when it is used. */
  static final String REPLAYED = "replayed (each micro-batch's forward and backward, recorded once)";
  /** Single-use linear weights of at least this many parameters keep autograd's gradients (and the bf16 copies). */
  static final long KEEP_GRADIENTS_FROM = 1L << 28;
  private final LanguageModel model;
  private final long accumulation;
  private final KeptTensor inputs = new KeptTensor();
  private final KeptTensor targets = new KeptTensor();
  private final KeptTensor loss = new KeptTensor();
  private String eager;
  private CudaGraph graph;
  private long poolBytes;
  private boolean recordedSinceAsked;
  private int runs;

  /** Micro-batches of {@code model}, each a {@code 1 / accumulation} share of a step; {@code eager}: why not record. */
  StepGraph(LanguageModel model, long accumulation, String eager) {
    this.model = model;
    this.accumulation = accumulation;
    this.eager = eager;
  }

  /**
   * Why a run of {@code config} on {@code device} in {@code processes} processes does not record its steps, or null
   * when it does.
   */
  static String unavailable(ModelConfig config, Device device, int processes) {
    if (!device.is_cuda()) {
      return "not a CUDA device";
    }
    if (!ExperimentFlags.current().trainGraph()) {
      return "off (-Dfastllm.trainGraph=false)";
    }
    if (processes > 1) {
      return "a data-parallel run launches eagerly";
    }
    for (Map.Entry<String, BlockConfig> block : config.blocks().entrySet()) {
      BlockConfig b = block.getValue();
      boolean lora = b.lora() != null && b.lora().dropout() != null && b.lora().dropout() > 0;
      if ((b.dropout() != null && b.dropout() > 0) || lora) {
        return "block " + block.getKey() + " has dropout, and a replay would draw the recording's mask again";
      }
    }
    return null;
  }

  /**
   * The bytes of the recording's memory pool that the allocator's peak since the last call left out: a replay's
   * tensors live there and the allocator sees only what runs eagerly; 0 before the recording and for the step that
   * recorded, whose tensors the allocator saw being made.
   */
  long uncountedBytes() {
    if (recordedSinceAsked) {
      recordedSinceAsked = false;
      return 0;
    }
    return poolBytes;
  }

  /**
   * True when a recording of {@code model} keeps autograd's gradients (the optimizer zeroes them in place) rather
   * than flat buffers, which leaves the bf16 weight copies on: {@code -Dfastllm.graphKeepsGradients} when set; else
   * as {@code bf16Copies} asks ({@code on}: kept, {@code off}: flat); under {@code auto}, whether its single-use
   * linear weights hold at least {@value #KEEP_GRADIENTS_FROM} parameters.
   */
  static boolean keepsGradients(LanguageModel model, KernelChoice bf16Copies) {
    return keepsGradients(model.singleUseLinears().stream().mapToLong(linear -> linear.weight().numel()).sum(),
        bf16Copies);
  }

  /**
   * {@link #keepsGradients(LanguageModel, KernelChoice)} of a model whose single-use linear weights hold
   * {@code parameters}.
   */
  static boolean keepsGradients(long parameters, KernelChoice bf16Copies) {
    return ExperimentFlags.current().graphKeepsGradients().orElse(switch (bf16Copies) {
      case ON -> true;
      case OFF -> false;
      case AUTO -> parameters >= KEEP_GRADIENTS_FROM;
    });
  }

  /**
   * The kernels to build a trained model with: {@code kernels}, except that an {@code auto} norm is off on a GPU
   * whose steps launch eagerly ({@code eager} non-null), where each norm kernel's host work costs more than it saves
   * (a 162M GPT's eager step 18% slower with them, its replayed one 2% faster).
   */
  static KernelsConfig kernelsFor(KernelsConfig kernels, Device device, String eager) {
    if (normOffForEagerSteps(kernels, device, eager)) {
      return new KernelsConfig(KernelChoice.OFF, kernels.loss(), kernels.scan(), kernels.rotary(), kernels.adamw(),
          kernels.bf16Copies(), kernels.scanSegments());
    }
    return kernels;
  }

  /** The kernel report's norm entry where {@link #kernelsFor} turned an {@code auto} norm off, else null. */
  static String normReport(KernelsConfig kernels, Device device, String eager) {
    return normOffForEagerSteps(kernels, device, eager)
        ? "tensor operations (auto, and the step launches eagerly: " + eager + ")" : null;
  }

  private static boolean normOffForEagerSteps(KernelsConfig kernels, Device device, String eager) {
    return kernels.norm() == KernelChoice.AUTO && device.is_cuda() && eager != null;
  }

  /** The kernel report's entry: {@link #REPLAYED}, or eager launches and why. */
  String outcome() {
    return eager == null ? REPLAYED : "eager launches (" + eager + ")";
  }

  /** The loss of {@code batch} (detached; the caller's to keep), its share of the gradients accumulated. */
  Tensor lossAndGradients(BatchSampler.Batch batch) {
    if (eager != null || runs++ < EAGER_FIRST) {
      return forwardBackward(batch.inputs(), batch.targets());
    }
    if (graph == null) {
      inputs.set(batch.inputs().clone());
      targets.set(batch.targets().clone());
      try {
        long before = DeviceMemory.reservedNow(batch.inputs().device());
        graph = CudaGraph.capture(batch.inputs().device().index(),
            () -> loss.set(forwardBackward(inputs.get(), targets.get())));
        poolBytes = Math.max(0, DeviceMemory.reservedNow(batch.inputs().device()) - before);
        recordedSinceAsked = true;
      } catch (IllegalStateException e) {
        eager = e.getMessage();
        System.err.println("warning: training steps launch eagerly from now on: " + eager);
        return forwardBackward(batch.inputs(), batch.targets());
      }
    } else {
      inputs.get().copy_(batch.inputs());
      targets.get().copy_(batch.targets());
    }
    graph.replay();
    return loss.get().clone();   // the next replay overwrites the recorded loss
  }

  private Tensor forwardBackward(Tensor in, Tensor out) {
    Tensor value = model.loss(in, out);
    value.div(new Scalar((double) accumulation)).backward();
    return value.detach();
  }

  @Override
  public void close() {
    inputs.close();
    targets.close();
    loss.close();
    if (graph != null) {
      graph.close();
      graph = null;
    }
  }
}
