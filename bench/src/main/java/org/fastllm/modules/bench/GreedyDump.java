package org.fastllm.modules.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.util.StringJoiner;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;

/**
 * Check tool, not a test: the greedy continuation of each line of a token file by a model folder, float32 on the
 * CPU, decoded as {@code fastllm-cli generate --temperature 0} decodes (the prompt through the decoding state, then
 * one token at a time, each the most likely one), never stopping early; one line of ids out per line in.
 * bench/gpu/fastllm_hf.sh compares them with transformers' {@code generate()} of the exported model.
 *
 * <pre class="text">{@code
 * run-gpu.sh org.fastllm.modules.bench.GreedyDump MODEL_DIR TOKENS.txt NEW_TOKENS
 * }</pre>
 */
public final class GreedyDump {
  private GreedyDump() {}

  public static void main(String[] args) throws IOException {
    if (args.length != 3) {
      System.err.println("usage: GreedyDump MODEL_DIR TOKENS.txt NEW_TOKENS");
      System.exit(2);
    }
    LogitsDump.exitOnUserError(() -> {
      long[][] prompts = LogitsDump.readTokens(Path.of(args[1]));
      int count = Integer.parseInt(args[2]);
      try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
        LanguageModel model = LogitsDump.load(Path.of(args[0]));
        model.eval();
        for (long[] prompt : prompts) {
          System.out.println(continuation(model, prompt, count));
        }
      }
    });
  }

  private static String continuation(LanguageModel model, long[] prompt, int count) {
    StringJoiner ids = new StringJoiner(" ");
    try (Decoding decoding = model.startDecoding(1)) {
      long[] feed = prompt;
      for (int i = 0; i < count; i++) {
        try (PointerScope step = new PointerScope()) {
          Tensor logits = model.decodeNextLogits(torch.tensor(feed).reshape(1, feed.length), decoding);
          long next = argmax(logits.flatten().to(torch.ScalarType.Float).contiguous());
          ids.add(Long.toString(next));
          feed = new long[] {next};
        }
      }
    }
    return ids.toString();
  }

  /** The index of the first largest value, as {@code generate --temperature 0} picks it. */
  private static long argmax(Tensor logits) {
    float[] values = new float[(int) logits.numel()];
    new FloatPointer(logits.data_ptr()).capacity(values.length).get(values);
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
