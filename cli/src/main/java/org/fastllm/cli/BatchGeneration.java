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
 * cost no more steps, and with more prompts than the batch holds the next one waiting is decoded alone and joins
 * the running batch in its place (continuous batching).
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

  /** Told, before each step of the joined batch, how many rows it decodes and how many prompts wait. */
  interface StepWatcher {
    void step(int rows, int waiting);
  }

  /** The new tokens of each prompt, in order, all of them decoded together; one sampler per prompt. */
  static List<int[]> continuations(LanguageModel model, Device device, List<int[]> prompts, int maxNew,
      OptionalInt endOfText, List<TokenSampler> samplers, FinishedRow onFinished) {
    return continuations(model, device, prompts, prompts.size(), maxNew, endOfText, samplers, onFinished,
        (rows, waiting) -> {});
  }

  /**
   * The new tokens of each prompt, in order, at most {@code batchSize} decoded together: as rows stop, the prompts
   * waiting take their places, so that the batch stays full while any wait.
   */
  static List<int[]> continuations(LanguageModel model, Device device, List<int[]> prompts, int batchSize,
      int maxNew, OptionalInt endOfText, List<TokenSampler> samplers, FinishedRow onFinished, StepWatcher watcher) {
    if (prompts.size() == 1 || batchSize == 1 || !model.joinsDecoding()) {
      List<int[]> made = new ArrayList<>();
      for (int r = 0; r < prompts.size(); r++) {
        made.add(GenerationLoop.continuation(model, device, prompts.get(r), maxNew, endOfText, samplers.get(r),
            id -> {}));
        onFinished.accept(r, made.get(r));
      }
      return made;
    }
    model.eval();
    Rows rows = new Rows(prompts.size(), maxNew, endOfText);
    boolean greedy = samplers.stream().allMatch(TokenSampler::greedy);
    try (NoGradGuard noGrad = new NoGradGuard(); Batch batch = new Batch(model)) {
      int next = 0;   // the first prompt not yet started
      while (!rows.allStopped()) {
        batch.dropStopped(rows);
        while (next < prompts.size() && batch.size() < batchSize && batch.takesRows()) {
          Decoding alone = prefilled(model, device, prompts.get(next), next, samplers.get(next), rows, onFinished);
          batch.add(next, alone, rows);
          next++;
        }
        if (batch.size() == 0) {
          continue;
        }
        watcher.step(batch.size(), prompts.size() - next);
        try (PointerScope step = new PointerScope()) {
          int[] in = batch.rows();
          Tensor logits = model.decodeLogits(GenerationLoop.tokens(rows.lastTokens(in), device).view(-1, 1),
              batch.decoding());
          int[] best = greedy ? GenerationLoop.mostLikely(logits) : null;
          float[][] last = greedy ? null : lastPositions(logits);
          for (int i = 0; i < in.length; i++) {
            if (!rows.stopped(in[i])) {
              rows.add(in[i], greedy ? best[i] : samplers.get(in[i]).next(last[i]), onFinished);
            }
          }
        }
      }
    }
    return rows.made();
  }

  /** The decoding of prompt {@code row} alone, after its prompt; its first new token is added to {@code rows}. */
  private static Decoding prefilled(LanguageModel model, Device device, int[] prompt, int row, TokenSampler sampler,
      Rows rows, FinishedRow onFinished) {
    Decoding decoding = model.startDecoding(1);
    try (PointerScope step = new PointerScope()) {
      Tensor logits = model.decodeLogits(GenerationLoop.tokens(prompt, device), decoding);
      rows.add(row, sampler.next(GenerationLoop.lastPosition(logits)), onFinished);
    } catch (RuntimeException e) {
      decoding.close();
      throw e;
    }
    return decoding;
  }

  /** The joined decoding of the rows going on together, and which prompt each of its rows continues. */
  private static final class Batch implements AutoCloseable {
    private final LanguageModel model;
    private Decoding joined;
    private int[] rows = new int[0];

    Batch(LanguageModel model) {
      this.model = model;
    }

    int size() {
      return rows.length;
    }

    int[] rows() {
      return rows;
    }

    Decoding decoding() {
      return joined;
    }

    /** True when a new row can join: the batch is empty or can drop its stopped rows to make room. */
    boolean takesRows() {
      return joined == null || joined.selectsRows();
    }

    /** Drops the rows that have stopped, where the decoding can (stopped rows cost no more steps). */
    void dropStopped(Rows all) {
      int[] going = Arrays.stream(rows).filter(r -> !all.stopped(r)).toArray();
      if (going.length == 0) {
        close();
      } else if (going.length < rows.length && joined.selectsRows()) {
        joined.keepRows(batchRowsOf(going, rows));
        rows = going;
      }
    }

    /**
     * Adds prompt {@code row}, decoded alone, as the last row, unless it has stopped already; {@code alone} is
     * closed.
     */
    void add(int row, Decoding alone, Rows all) {
      try (alone; PointerScope scope = new PointerScope()) {   // frees the copies the join makes along the way
        if (all.stopped(row)) {
          return;
        }
        Decoding before = joined;
        joined = model.joinDecoding(before == null ? List.of(alone) : List.of(before, alone));
        if (before != null) {
          before.close();
        }
        rows = IntStream.concat(Arrays.stream(rows), IntStream.of(row)).toArray();
      }
    }

    @Override
    public void close() {
      if (joined != null) {
        joined.close();
        joined = null;
      }
      rows = new int[0];
    }
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
