package org.fastllm.modules.layer;

import java.util.List;

/**
 * A decoding state of one sequence that can be joined with others of its kind into one state of a batch, whatever
 * number of positions each has seen: prompts of different lengths are decoded alone, then continued together.
 *
 * <pre>{@code
 * // given SequenceLayer mixer, org.bytedeco.pytorch.Tensor shortPrompt, org.bytedeco.pytorch.Tensor longPrompt
 * DecodeState a = mixer.startDecoding(1);
 * DecodeState b = mixer.startDecoding(1);
 * mixer.decode(shortPrompt, Adapters.NONE, a);   // [1, 3, H]
 * mixer.decode(longPrompt, Adapters.NONE, b);    // [1, 8, H]
 * DecodeState both = ((JoinableState) a).joinRows(List.of(a, b));   // continues both, a batch of two
 * }</pre>
 *
 * <p><b>Each row of the joined state continues exactly as its sequence would alone</b>; the rows' own states are
 * left as they were (the caller closes them).
 */
public interface JoinableState extends DecodeState {
  /**
   * One state for {@code rows}, in order along the batch: states of this state's kind (this one among them), each of
   * one sequence or itself joined before, so that a running batch can take in new sequences.
   */
  DecodeState joinRows(List<DecodeState> rows);
}
