package org.fastllm.modules.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;

/**
 * Benchmark, not a test: 16 prompts of 4 to 31 tokens, each continued by 64 tokens, decoded one prompt after another
 * and then as one joined batch ({@link LanguageModel#joinDecoding}), in alternating rounds on one CPU thread, on a
 * small hybrid stack (rotary GQA with a window, Mamba1, discrete Mamba2, full GQA); as the baseline of what
 * batching can give, a batch of 16 prompts of one length (18 tokens, about the mean) decoded together from the
 * start.
 *
 * <pre class="text">{@code
 * bench/joined-decode.sh   # rounds of both, then the ratio of the means
 * }</pre>
 */
public final class JoinedDecodeBench {
  private static final int PROMPTS = 16;
  private static final int NEW_TOKENS = 64;

  private JoinedDecodeBench() {}

  public static void main(String[] args) {
    torch.set_num_threads(1);
    torch.manual_seed(1);
    ConfigDocument run = ConfigLoader.standard().load("hybrid.yaml", """
        model:
          hidden_size: 64
          vocab_size: 256
          blocks:
            window: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, sliding_window: true,
                     window_size: 16}
            mamba: {kind: ssm, variant: mamba1}
            discrete: {kind: ssm, variant: discrete_mamba2}
            full: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2}
          block_pattern: [window, mamba, discrete, full]
          num_layers: 4
        training: {device: cpu}
        """).resolved().withRunDefaults();
    LanguageModel model = StackBuilder.installed().build(run.model().withDefaults(), run.training().kernels());
    model.eval();
    List<Tensor> prompts = new ArrayList<>();
    for (int p = 0; p < PROMPTS; p++) {
      prompts.add(torch.randint(256, new long[] {1, 4 + (p * 7) % 28}, new TensorOptions(torch.ScalarType.Long)));
    }
    Tensor next = torch.randint(256, new long[] {PROMPTS, 1}, new TensorOptions(torch.ScalarType.Long));
    Tensor same = torch.randint(256, new long[] {PROMPTS, 18}, new TensorOptions(torch.ScalarType.Long));
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    double[] mean = new double[3];
    try (NoGradGuard noGrad = new NoGradGuard()) {
      for (int round = 0; round <= rounds; round++) {   // round 0 warms up
        long t0 = System.nanoTime();
        for (int p = 0; p < PROMPTS; p++) {
          try (Decoding decoding = model.startDecoding(1)) {
            continued(model, prompts.get(p), next.narrow(0, p, 1), decoding);
          }
        }
        long t1 = System.nanoTime();
        List<Decoding> rows = new ArrayList<>();
        for (Tensor prompt : prompts) {
          rows.add(model.startDecoding(1));
          step(model, prompt, rows.get(rows.size() - 1));
        }
        try (Decoding batch = model.joinDecoding(rows)) {
          rows.forEach(Decoding::close);
          continued(model, null, next, batch);
        }
        long t2 = System.nanoTime();
        try (Decoding uniform = model.startDecoding(PROMPTS)) {
          continued(model, same, next, uniform);
        }
        long t3 = System.nanoTime();
        if (round > 0) {
          mean[0] += (t1 - t0) / 1e6 / rounds;
          mean[1] += (t2 - t1) / 1e6 / rounds;
          mean[2] += (t3 - t2) / 1e6 / rounds;
        }
      }
    }
    System.out.printf(Locale.ROOT, "one prompt at a time %.0f ms, joined batch %.0f ms (ratio %.2f); a batch of 16 "
        + "prompts of one length %.0f ms%n", mean[0], mean[1], mean[0] / mean[1], mean[2]);
  }

  /** The prompt (unless null) and then {@code NEW_TOKENS - 1} steps of {@code next}. */
  private static void continued(LanguageModel model, Tensor prompt, Tensor next, Decoding decoding) {
    if (prompt != null) {
      step(model, prompt, decoding);
    }
    for (int t = 0; t < NEW_TOKENS - 1; t++) {
      step(model, next, decoding);
    }
  }

  private static void step(LanguageModel model, Tensor tokens, Decoding decoding) {
    try (PointerScope scope = new PointerScope()) {
      model.decodeLogits(tokens, decoding);
    }
  }
}
