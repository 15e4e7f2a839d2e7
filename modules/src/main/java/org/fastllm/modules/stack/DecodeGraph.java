package org.fastllm.modules.stack;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.cuda.CudaGraph;
import org.fastllm.modules.experiment.ExperimentFlags;
import org.fastllm.modules.layer.KeptTensor;

/**
 * Decoding one new token per sequence at a time, where on a GPU each step after the first is one replay of a CUDA
 * graph: a small model's step is hundreds of short kernels, and launching them one by one from the host costs
 * more than running them.
 *
 * <pre>{@code
 * // given LanguageModel model, Tensor prompt, Tensor next
 * long b = prompt.size(0);   // prompt [b, t] and next [b, 1] on the GPU; the model in eval mode, without grad
 * try (Decoding decoding = model.startDecoding(b);
 *     DecodeGraph steps = new DecodeGraph(model, decoding, prompt.size(1) + 256)) {
 *   Tensor first = model.decodeNextLogits(prompt, decoding);
 *   Tensor logits = steps.nextLogits(next);   // [b, 1, vocab], overwritten by the next call
 * }
 * }</pre>
 *
 * <p>The first step fixes the decoding ({@link Decoding#fix}): key/value caches allocated for {@code capacity}
 * positions, the position read on the device, every state written in place; it runs eagerly, so that kernels are
 * compiled and libraries ready. The second is recorded and replayed; each later one copies its tokens into the
 * recorded input, sets the position and replays. Where a graph cannot be made (the CPU, a layer whose state
 * cannot be fixed, a failed capture, {@code -Dfastllm.decodeGraph=false}) every step runs eagerly, with the same
 * logits, and {@link #eagerReason} says why.
 */
public final class DecodeGraph implements AutoCloseable {
  private final LanguageModel model;
  private final Decoding decoding;
  private final long capacity;
  private final KeptTensor input = new KeptTensor();
  private final KeptTensor output = new KeptTensor();
  private CudaGraph graph;
  private String eager;
  private long steps;

  /** Steps of {@code decoding}, for sequences of at most {@code capacity} positions, prompt included. */
  public DecodeGraph(LanguageModel model, Decoding decoding, long capacity) {
    this.model = model;
    this.decoding = decoding;
    this.capacity = capacity;
  }

  /**
   * The next-token logits {@code [b, 1, vocab]} after {@code tokens} {@code [b, 1]}, as
   * {@link LanguageModel#decodeNextLogits} gives them; a replay's logits are overwritten by the next call.
   *
   * @throws IllegalStateException when the sequences would pass the capacity
   */
  public Tensor nextLogits(Tensor tokens) {
    long position = decoding.position();
    if (position >= capacity) {
      throw new IllegalStateException("the decoding was made for " + capacity + " positions; position " + position
          + " is past them");
    }
    if (steps++ == 0) {
      eager = firstStep(tokens);
    }
    if (decoding.fixedPosition() != null) {
      decoding.fixedPosition().fill_(new Scalar(position));
    }
    if (eager != null) {
      return model.decodeNextLogits(tokens, decoding);
    }
    if (graph == null) {
      return record(tokens, position);
    }
    input.get().copy_(tokens);
    graph.replay();
    decoding.seen(position + 1);
    return output.get();
  }

  /** Null while steps replay a graph or are about to, otherwise why they run eagerly. */
  public String eagerReason() {
    return eager;
  }

  /** True once steps replay a recorded graph. */
  public boolean replays() {
    return graph != null;
  }

  /** Null when the steps can be recorded: the decoding is then fixed. */
  private String firstStep(Tensor tokens) {
    if (!ExperimentFlags.current().decodeGraph()) {
      return "off (-Dfastllm.decodeGraph=false)";
    }
    if (!tokens.is_cuda()) {
      return "CUDA graphs are for GPUs; this runs on " + tokens.device().str().getString();
    }
    if (tokens.size(1) != 1) {
      return "a step decodes one position per sequence";
    }
    return decoding.fix(capacity, tokens);
  }

  private Tensor record(Tensor tokens, long position) {
    input.set(tokens.clone());
    try {
      graph = CudaGraph.capture(tokens.device().index(),
          () -> output.set(model.decodeNextLogits(input.get(), decoding)));
    } catch (IllegalStateException e) {
      eager = e.getMessage();
      decoding.seen(position);   // what the recording's Java code counted was not computed
      return model.decodeNextLogits(tokens, decoding);
    }
    graph.replay();
    decoding.seen(position + 1);
    return output.get();
  }

  /** Frees the graph and its tensors; the decoding is the caller's to close. */
  @Override
  public void close() {
    input.close();
    output.close();
    if (graph != null) {
      graph.close();
      graph = null;
    }
  }
}
