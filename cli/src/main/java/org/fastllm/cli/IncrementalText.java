package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.Arrays;
import org.fastllm.modules.data.Tokenizer;

/**
 * Prints generated tokens as they come: the whole continuation is decoded again after each token and its new end is
 * printed, held back while it ends inside a multi-byte character.
 *
 * <pre>{@code
 * // given Tokenizer tokenizer, PrintWriter out
 * IncrementalText text = new IncrementalText(tokenizer, out);
 * text.add(104);
 * text.finish();   // the rest, and a line break
 * }</pre>
 */
final class IncrementalText {
  private static final char REPLACEMENT = '\uFFFD';
  private final Tokenizer tokenizer;
  private final PrintWriter out;
  private int[] ids = new int[0];
  private int printed;

  IncrementalText(Tokenizer tokenizer, PrintWriter out) {
    this.tokenizer = tokenizer;
    this.out = out;
  }

  void add(int id) {
    ids = Arrays.copyOf(ids, ids.length + 1);
    ids[ids.length - 1] = id;
    String text = tokenizer.decode(ids);
    if (!text.isEmpty() && text.charAt(text.length() - 1) != REPLACEMENT) {
      print(text);
    }
  }

  void finish() {
    print(tokenizer.decode(ids));
    out.println();
    out.flush();
  }

  private void print(String text) {
    if (text.length() > printed) {
      out.print(text.substring(printed));
      out.flush();
      printed = text.length();
    }
  }
}
