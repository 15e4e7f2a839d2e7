package org.fastllm.cli;

import java.util.HashMap;
import java.util.Map;

/**
 * Hands on results that finish in any order in the order of their indices: each as soon as it and all those before
 * it have finished.
 *
 * <pre>{@code
 * InOrder printer = new InOrder((index, ids) -> System.out.println(index + ": " + ids.length));
 * printer.finished(1, new int[] {7});      // held: 0 is not done
 * printer.finished(0, new int[] {5, 6});   // prints 0, then 1
 * }</pre>
 */
final class InOrder {
  private final BatchGeneration.FinishedRow next;
  private final Map<Integer, int[]> waiting = new HashMap<>();
  private int due;

  InOrder(BatchGeneration.FinishedRow next) {
    this.next = next;
  }

  /** Result {@code index} is done: it and the waiting ones after it, if they are now due, are handed on. */
  void finished(int index, int[] ids) {
    waiting.put(index, ids);
    while (waiting.containsKey(due)) {
      next.accept(due, waiting.remove(due));
      due++;
    }
  }
}
