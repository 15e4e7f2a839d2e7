package org.fastllm.cli;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.stack.Decoding;
import org.fastllm.modules.stack.LanguageModel;

/**
 * Continues several prompts together: each prompt is decoded alone (they differ in length), their decodings are
 * joined into one batch, and every step then decodes one token of each row at once. A row stops at the end-of-text
 * token or after {@code maxNew} tokens while the others go on; stopped rows are dropped from the batch, so they
 * cost no more steps.
 *
 * <pre>{@code
 * // given LanguageModel model, Device device, List<int[]> prompts, List<TokenSampler> samplers, OptionalInt none
 * List<int[]> more = BatchGeneration.continuations(model, device, prompts, 16, none, samplers, (row, ids) -> {});
 * }</pre>
 *
 * <p><b>Row {@code r} gets the tokens {@link GenerationLoop#continuation} gives its prompt alone with sampler
 * {@code r}</b>: rows see only their own positions. A model some layer of which recomputes its sequence (it cannot
 * join decodings) continues the prompts one after another instead.
 */
final class BatchGeneration {
  private BatchGeneration() {}

  /** Called once per row, as soon as the row has stopped, with its new tokens (the end-of-text id left out). */
  interface FinishedRow {
    void accept(int row, int[] ids);
  }

  /** The new tokens of each prompt, in order; {@code samplers} has one sampler per prompt. */
  static List<int[]> continuations(LanguageModel model, Device device, List<int[]> prompts, int maxNew,
      OptionalInt endOfText, List<TokenSampler> samplers, FinishedRow onFinished) {
    List<int[]> made = new ArrayList<>();
    if (prompts.size() == 1 || !model.joinsDecoding()) {
      for (int r = 0; r < prompts.size(); r++) {
        made.add(GenerationLoop.continuation(model, device, prompts.get(r), maxNew, endOfText, samplers.get(r),
            id -> {}));
        onFinished.accept(r, made.get(r));
      }
      return made;
    }
    model.eval();
    Rows rows = new Rows(prompts.size(), maxNew, endOfText);
    try (NoGradGuard noGrad = new NoGradGuard()) {
      List<Decoding> alone = new ArrayList<>();
      try {
        for (int r = 0; r < prompts.size(); r++) {
          Decoding decoding = model.startDecoding(1);
          alone.add(decoding);
          try (PointerScope step = new PointerScope()) {
            Tensor logits = model.decodeLogits(GenerationLoop.tokens(prompts.get(r), device), decoding);
            rows.add(r, samplers.get(r).next(GenerationLoop.lastPosition(logits)), onFinished);
          }
        }
        if (rows.allStopped()) {
          return rows.made();
        }
        try (Decoding joined = joined(model, alone)) {
          alone.forEach(Decoding::close);
          alone.clear();
          int[] batch = IntStream.range(0, prompts.size()).toArray();
          while (!rows.allStopped()) {
            try (PointerScope step = new PointerScope()) {
              int[] going = rows.going();
              if (going.length < batch.length && joined.selectsRows()) {   // stopped rows cost no more steps
                joined.keepRows(batchRowsOf(going, batch));
                batch = going;
              }
              Tensor logits = model.decodeLogits(GenerationLoop.tokens(rows.lastTokens(batch), device).view(-1, 1),
                  joined);
              boolean greedy = samplers.stream().allMatch(TokenSampler::greedy);
              int[] best = greedy ? GenerationLoop.mostLikely(logits) : null;
              float[][] last = greedy ? null : lastPositions(logits);
              for (int i = 0; i < batch.length; i++) {
                if (!rows.stopped(batch[i])) {
                  rows.add(batch[i], greedy ? best[i] : samplers.get(batch[i]).next(last[i]), onFinished);
                }
              }
            }
          }
        }
      } finally {
        alone.forEach(Decoding::close);
      }
    }
    return rows.made();
  }

  /** The batch rows that hold {@code rows}, where row {@code batch[i]} is batch row {@code i}. */
  private static int[] batchRowsOf(int[] rows, int[] batch) {
    int[] at = new int[rows.length];
    for (int i = 0, j = 0; i < rows.length; i++) {
      while (batch[j] != rows[i]) {
        j++;
      }
      at[i] = j;
    }
    return at;
  }

  /** The rows' decodings joined; the copies the join makes along the way are freed here. */
  private static Decoding joined(LanguageModel model, List<Decoding> rows) {
    try (PointerScope scope = new PointerScope()) {
      return model.joinDecoding(rows);
    }
  }

  /** The logits of the last position of every row {@code [b, t, vocab]}, as floats, one array per row. */
  private static float[][] lastPositions(Tensor logits) {
    Tensor last = logits.select(1, logits.size(1) - 1).to(torch.ScalarType.Float).cpu().contiguous();
    int vocab = (int) last.size(1);
    float[] all = new float[(int) last.numel()];
    new FloatPointer(last.data_ptr()).capacity(all.length).get(all);
    float[][] rows = new float[(int) last.size(0)][];
    for (int r = 0; r < rows.length; r++) {
      rows[r] = Arrays.copyOfRange(all, r * vocab, (r + 1) * vocab);
    }
    return rows;
  }

  /** The tokens made so far for each row and which rows have stopped. */
  private static final class Rows {
    private final int[][] made;
    private final int[] count;
    private final boolean[] stopped;
    private final int[] last;
    private final OptionalInt endOfText;

    Rows(int rows, int maxNew, OptionalInt endOfText) {
      this.made = new int[rows][maxNew];
      this.count = new int[rows];
      this.stopped = new boolean[rows];
      this.last = new int[rows];
      this.endOfText = endOfText;
    }

    void add(int row, int id, FinishedRow onFinished) {
      last[row] = id;
      boolean end = endOfText.isPresent() && id == endOfText.getAsInt();
      if (!end) {
        made[row][count[row]++] = id;
      }
      if (end || count[row] == made[row].length) {
        stopped[row] = true;
        onFinished.accept(row, Arrays.copyOf(made[row], count[row]));
      }
    }

    boolean stopped(int row) {
      return stopped[row];
    }

    boolean allStopped() {
      return going().length == 0;
    }

    /** The rows that have not stopped, in order. */
    int[] going() {
      return IntStream.range(0, stopped.length).filter(r -> !stopped[r]).toArray();
    }

    /** The next input of each row of {@code batch}: its last token (a stopped row's output is not read). */
    int[] lastTokens(int[] batch) {
      return Arrays.stream(batch).map(r -> last[r]).toArray();
    }

    List<int[]> made() {
      List<int[]> all = new ArrayList<>();
      for (int r = 0; r < made.length; r++) {
        all.add(Arrays.copyOf(made[r], count[r]));
      }
      return all;
    }
  }
}
