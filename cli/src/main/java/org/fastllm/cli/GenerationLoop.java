package org.fastllm.cli;

import java.util.OptionalInt;
import java.util.function.IntConsumer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.stack.DecodeGraph;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;

/**
 * Continues one prompt: the prompt is decoded once, then one token per step from the model's decoding caches; on a
 * GPU those steps replay one recorded CUDA graph ({@link DecodeGraph}).
 *
 * <pre>{@code
 * // given LanguageModel model, Device device, int[] prompt, TokenSampler sampler, OptionalInt none
 * int[] more = GenerationLoop.continuation(model, device, prompt, 16, none, sampler, id -> {});
 * }</pre>
 *
 * <p><b>Runs without gradients and with the model in eval mode; each step's tensors are freed by its own scope.</b>
 */
final class GenerationLoop {
  private GenerationLoop() {}

  /**
   * Up to {@code maxNew} tokens after {@code prompt}, each handed to {@code onToken} as soon as it is chosen; the
   * {@code endOfText} id, where chosen, ends them and is neither returned nor handed on.
   */
  static int[] continuation(LanguageModel model, Device device, int[] prompt, int maxNew, OptionalInt endOfText,
      TokenSampler sampler, IntConsumer onToken) {
    int[] made = new int[maxNew];
    model.eval();
    try (NoGradGuard noGrad = new NoGradGuard(); Decoding decoding = model.startDecoding(1);
        DecodeGraph steps = new DecodeGraph(model, decoding, (long) prompt.length + maxNew)) {
      int[] feed = prompt;
      for (int i = 0; i < maxNew; i++) {
        try (PointerScope step = new PointerScope()) {
          Tensor input = tokens(feed, device);
          // after the prompt, one token a step: on a GPU, replays of one recorded step
          Tensor logits = i == 0 ? model.decodeNextLogits(input, decoding) : steps.nextLogits(input);
          made[i] = sampler.greedy() ? mostLikely(logits)[0] : sampler.next(lastPosition(logits));
        }
        if (endOfText.isPresent() && made[i] == endOfText.getAsInt()) {
          return java.util.Arrays.copyOf(made, i);
        }
        onToken.accept(made[i]);
        feed = new int[] {made[i]};
      }
    }
    return made;
  }

  /** The logits of the last position of the first sequence, as floats. */
  static float[] lastPosition(Tensor logits) {
    Tensor last = logits.select(0, 0).select(0, logits.size(1) - 1).to(torch.ScalarType.Float).cpu().contiguous();
    float[] values = new float[(int) last.numel()];
    new FloatPointer(last.data_ptr()).capacity(values.length).get(values);
    return values;
  }

  /**
   * The most likely next id of each sequence after its last position, chosen on the logits' device: the host reads
   * one id per row, not the vocabulary's logits (the first of equal largest values, as {@link TokenSampler#argmax}).
   */
  static int[] mostLikely(Tensor logits) {
    Tensor ids = logits.select(1, logits.size(1) - 1).argmax(new LongOptional(-1), false).cpu().contiguous();
    long[] wide = new long[(int) ids.numel()];
    new LongPointer(ids.data_ptr()).capacity(wide.length).get(wide);
    return java.util.Arrays.stream(wide).mapToInt(Math::toIntExact).toArray();
  }

  static Tensor tokens(int[] ids, Device device) {
    long[] wide = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      wide[i] = ids[i];
    }
    try (LongPointer pointer = new LongPointer(wide)) {
      Tensor cpu = torch.from_blob(pointer, new long[] {1, ids.length}, new TensorOptions(torch.ScalarType.Long))
          .clone();
      return device.is_cpu() ? cpu : cpu.to(device, torch.ScalarType.Long);
    }
  }
}
