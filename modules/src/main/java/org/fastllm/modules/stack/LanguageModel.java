package org.fastllm.modules.stack;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.StringTensorDictItem;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.layer.Scopes;
import org.fastllm.modules.loss.CrossEntropy;
import org.fastllm.modules.layer.Adapters;
import org.fastllm.modules.layer.DecodeState;
import org.fastllm.modules.layer.JoinableState;
import org.fastllm.modules.layer.RowPositions;
import org.fastllm.modules.layer.LayerContext;
import org.fastllm.modules.layer.Linear;
import org.fastllm.modules.norm.Normalization;

/**
 * A built language model: embeddings, the expanded stack of blocks, the final norm and the output head.
 *
 * <pre>{@code
 * // given ConfigDocument config, Tensor tokens, Tensor targets
 * LanguageModel model = StackBuilder.installed().build(config.model().withDefaults(), config.training().kernels());
 * Tensor loss = model.loss(tokens, targets);                   // tokens, targets: [b, t] longs
 * List<NamedParameter> parameters = model.uniqueParameters();  // each shared tensor once, for the optimizer
 * }</pre>
 *
 * <p><b>{@link #uniqueParameters()} lists each tensor once, however many layers use it;</b> hand that list, never
 * {@code parameters()}, to optimizers, clipping and checkpoints. The model owns the backward tape of its
 * hand-written kernels: two models in one process train side by side.
 */
public final class LanguageModel extends Module {
  private final TableModule word;
  private final TableModule position;
  private final List<Block> layers;
  private final List<String> blockNames;
  private final List<Adapters> useAdapters;
  private final Normalization finalNorm;
  private final TableModule output;
  private final Map<String, ParameterRole> roles;
  private final LayerContext context;
  private final CrossEntropy crossEntropy;
  // Held for the model's lifetime: the native side calls back into every registered Java module (train(),
  // eval()), and one that only native code refers to may have been collected by then.
  private final Module embeddings;
  private final Module stack;
  private final Module adapterHolder;
  private final List<Module> adapterModules;

  LanguageModel(TableModule word, TableModule position, List<Block> layers, List<String> blockNames,
      List<Adapters> useAdapters, List<Module> adapterModules, Normalization finalNorm, TableModule output, Map<String, ParameterRole> roles,
      LayerContext context) {
    this.embeddings = register_module("embeddings", new Module());
    this.word = embeddings.register_module("word", word);
    this.position = position == null ? null : embeddings.register_module("position", position);
    this.stack = register_module("layers", new Module());
    for (int i = 0; i < layers.size(); i++) {
      stack.register_module(Integer.toString(i), layers.get(i));
    }
    this.layers = List.copyOf(layers);
    this.blockNames = List.copyOf(blockNames);
    this.adapterModules = adapterModules.stream().filter(m -> m != null).toList();
    this.adapterHolder = this.adapterModules.isEmpty() ? null : register_module("adapters", new Module());
    for (int i = 0; i < adapterModules.size(); i++) {
      if (adapterModules.get(i) != null) {
        adapterHolder.register_module(Integer.toString(i), adapterModules.get(i));
      }
    }
    this.useAdapters = List.copyOf(useAdapters);
    this.finalNorm = register_module("final_norm", finalNorm);
    this.output = output == null ? null : register_module("output", output);
    this.roles = Map.copyOf(roles);
    this.context = context;
    this.crossEntropy = new CrossEntropy(context);
  }

  /** The hidden states after the final norm, {@code [b, t, H]}, for token ids {@code [b, t]}. */
  public Tensor hidden(Tensor tokens) {
    context.tape().forgetPending();
    Tensor x = torch.embedding(word.weight, tokens);
    if (position != null) {
      x = x.add(position.weight.narrow(0, 0, tokens.size(1)));
    }
    for (int i = 0; i < layers.size(); i++) {
      // each layer's temporaries are released when it returns (the peak of a 1.1B model's step: 39 GiB without)
      Tensor in = x;
      int layer = i;
      x = Scopes.scoped(() -> layers.get(layer).forward(in, useAdapters.get(layer)));
    }
    return finalNorm.forward(x);
  }

  /** Next-token logits {@code [b, t, vocab]}. */
  public Tensor logits(Tensor tokens) {
    return head(hidden(tokens));
  }

  /** A decoding state for {@code batch} sequences, before their first token: one state per layer. */
  public Decoding startDecoding(long batch) {
    List<DecodeState> states = new ArrayList<>();
    for (Block block : layers) {
      states.add(block.startDecoding(batch));
    }
    return new Decoding(states, RowPositions.uniform(batch, 0));
  }

  /**
   * True when decodings of single sequences can be joined ({@link #joinDecoding}): every layer keeps a state of
   * its own that rows of different lengths can share.
   */
  public boolean joinsDecoding() {
    try (Decoding probe = startDecoding(1)) {
      return probe.joinable();
    }
  }

  /**
   * One decoding that continues the sequences of {@code rows}, in order along the batch, each as it would continue
   * alone, whatever number of positions each has seen; the rows are left as they were (the caller closes them). A
   * row may itself be a joined decoding: joining a running batch with a new sequence's decoding adds that sequence
   * as its last row.
   *
   * @throws IllegalArgumentException when the model does not {@link #joinsDecoding join decodings}
   */
  public Decoding joinDecoding(List<Decoding> rows) {
    if (!rows.stream().allMatch(Decoding::joinable)) {
      throw new IllegalArgumentException("some layer of this model decodes by recomputing: its rows cannot be joined");
    }
    List<DecodeState> states = new ArrayList<>();
    for (int layer = 0; layer < rows.get(0).layers(); layer++) {
      int at = layer;
      List<DecodeState> row = rows.stream().map(d -> d.layer(at)).toList();
      states.add(((JoinableState) row.get(0)).joinRows(row));
    }
    return new Decoding(states,
        RowPositions.joined(rows.stream().map(Decoding::positions).toList()));
  }

  /**
   * Next-token logits {@code [b, t, vocab]} for {@code tokens} {@code [b, t]}, the positions that follow those
   * {@code decoding} has seen; equal to the last {@code t} positions of {@link #logits} over the whole sequence.
   * Called without gradients; the model is in eval mode.
   */
  public Tensor decodeLogits(Tensor tokens, Decoding decoding) {
    return head(decodeHidden(tokens, decoding));
  }

  /**
   * {@link #decodeLogits} of the last position only, {@code [b, 1, vocab]}: what choosing the next token needs,
   * without the output head's work (and a {@code [b, t, vocab]} tensor) at the prompt's other positions.
   */
  public Tensor decodeNextLogits(Tensor tokens, Decoding decoding) {
    Tensor hidden = decodeHidden(tokens, decoding);
    return head(hidden.narrow(1, hidden.size(1) - 1, 1));
  }

  /** {@link #logits} of the last position only, {@code [b, 1, vocab]}, from a forward over the whole sequence. */
  public Tensor nextLogits(Tensor tokens) {
    Tensor hidden = hidden(tokens);
    return head(hidden.narrow(1, hidden.size(1) - 1, 1));
  }

  /**
   * The learned position embeddings of the {@code t} positions after those {@code decoding} has seen: one row read
   * at the device's position for a fixed decoding's one-position step, the same rows for every sequence where they
   * have all seen as many, else each sequence's own.
   */
  private Tensor positionRows(Tensor tokens, Decoding decoding) {
    long time = tokens.size(1);
    RowPositions seen = decoding.positions();
    if (time == 1 && decoding.fixedPosition() != null) {
      return position.weight.index_select(0, decoding.fixedPosition());
    }
    if (seen.uniform()) {
      return position.weight.narrow(0, seen.seen(0), time);
    }
    return position.weight.index_select(0, seen.of(time, tokens.device()).flatten()).view(tokens.size(0), time, -1);
  }

  private Tensor decodeHidden(Tensor tokens, Decoding decoding) {
    long time = tokens.size(1);
    Tensor x = torch.embedding(word.weight, tokens);
    if (position != null) {
      x = x.add(positionRows(tokens, decoding));
    }
    for (int i = 0; i < layers.size(); i++) {
      Tensor in = x;
      int layer = i;
      x = Scopes.scoped(() -> layers.get(layer).decode(in, useAdapters.get(layer), decoding.layer(layer)));
    }
    decoding.advance(time);
    return finalNorm.forward(x);
  }

  private Tensor head(Tensor hidden) {
    return torch.linear(hidden, output == null ? word.weight : output.weight);
  }

  /** True when every layer decodes from a cache of its own; false when some layer recomputes its sequence. */
  public boolean decodesIncrementally() {
    return layers.stream().allMatch(Block::decodesIncrementally);
  }

  /**
   * The names of the blocks whose mixer has no step function, each once, in the order of their first layer: at
   * every {@link #decodeLogits} call their layers run the whole sequence so far again, so each new token costs more
   * than the one before. Empty when {@link #decodesIncrementally()}.
   */
  public List<String> recomputingBlocks() {
    Set<String> names = new LinkedHashSet<>();
    for (int i = 0; i < layers.size(); i++) {
      if (!layers.get(i).decodesIncrementally()) {
        names.add(blockNames.get(i));
      }
    }
    return List.copyOf(names);
  }

  /** Mean cross-entropy of {@code targets} under the logits of {@code tokens}. */
  public Tensor loss(Tensor tokens, Tensor targets) {
    Tensor logits = logits(tokens);
    long vocab = logits.size(2);
    return crossEntropy.mean(logits.reshape(-1, vocab), targets.reshape(-1));
  }

  /**
   * What ran for each hand-written kernel feature the model used so far (recorded at first use): feature ->
   * {@code cuda kernel} or {@code tensor operations (reason)}, in the order of the feature names.
   */
  public Map<String, String> kernelReport() {
    return context.report().snapshot();
  }

  /** Hand-written kernel calls of this model waiting for their backward (a diagnostic: 0 after each step). */
  public int pendingKernelBackwards() {
    return context.tape().pending();
  }

  /** Each parameter tensor once, under the name of its first use, in registration order. */
  public List<NamedParameter> uniqueParameters() {
    StringTensorDict named = named_parameters(true);
    Set<Long> seen = new HashSet<>();
    List<NamedParameter> unique = new ArrayList<>();
    for (long i = 0; i < named.size(); i++) {
      StringTensorDictItem item = named.get(i);
      // Copy the handle: value() points into the dictionary, which is freed with it.
      Tensor tensor = new Tensor(item.value());
      if (seen.add(tensor.unsafeGetTensorImpl().address())) {
        String name = item.key().getString();
        ParameterRole role = roles.getOrDefault(name, ParameterRole.DEFAULT);
        unique.add(new NamedParameter(name, tensor, role.weightDecay(), role.lrScale()));
      }
    }
    return unique;
  }

  /** The unique tensors that require gradients, for the optimizer. */
  public org.bytedeco.pytorch.TensorVector trainableTensors() {
    return new org.bytedeco.pytorch.TensorVector(uniqueParameters().stream()
        .filter(NamedParameter::trainable).map(NamedParameter::tensor).toArray(Tensor[]::new));
  }

  /** The number of values in the unique parameters. */
  public long parameterCount() {
    return uniqueParameters().stream().mapToLong(p -> p.tensor().numel()).sum();
  }

  /**
   * The linear layers whose weight one forward reads once: those of blocks at a single layer (a shared block's
   * gradients add up over its uses, which the optimizer's bfloat16 weight copies would add in bfloat16).
   */
  public List<Linear> singleUseLinears() {
    Map<Block, Integer> uses = new IdentityHashMap<>();
    layers.forEach(b -> uses.merge(b, 1, Integer::sum));
    List<Linear> linears = new ArrayList<>();
    for (Block block : layers) {
      if (uses.get(block) == 1) {
        linears.addAll(block.linears());
      }
    }
    return linears;
  }

  public int numLayers() {
    return layers.size();
  }

  /** The block at a layer; a shared block is the same object at each of its layers. */
  public Block layer(int index) {
    return layers.get(index);
  }
}
