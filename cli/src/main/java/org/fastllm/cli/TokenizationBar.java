package org.fastllm.cli;

import java.io.PrintWriter;
import java.util.Locale;
import org.fastllm.modules.data.TokenizationProgress;

/**
 * The progress of tokenizing a text file on stderr, like {@link ProgressBar}: one line redrawn in place on a
 * terminal, or a plain line at every tenth of the file when stderr is a file or a pipe; notes on lines of their own.
 *
 * <pre class="text">[########------------] tokenizing 412.0/1,024.0 MB  38.2 MB/s  ETA 0:16</pre>
 */
final class TokenizationBar implements TokenizationProgress {
  private static final int WIDTH = 20;
  private static final double MB = 1e6;
  private final PrintWriter err;
  private final boolean terminal;
  private final long startNanos = System.nanoTime();
  private int tenthsShown;

  TokenizationBar(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  @Override
  public void tokenized(long bytesDone, long bytesTotal) {
    double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
    double rate = bytesDone / seconds;
    String line = String.format(Locale.ROOT, "tokenizing %,.1f/%,.1f MB  %,.1f MB/s  ETA %s", bytesDone / MB,
        bytesTotal / MB, rate / MB, ProgressBar.duration(rate == 0 ? 0 : (bytesTotal - bytesDone) / rate));
    boolean last = bytesDone >= bytesTotal;
    if (terminal) {
      int filled = bytesTotal == 0 ? WIDTH : (int) (WIDTH * bytesDone / bytesTotal);
      err.print("\r[" + "#".repeat(filled) + "-".repeat(WIDTH - filled) + "] " + line + "   ");
      if (last) {
        err.println();
      }
    } else {
      int tenths = bytesTotal == 0 ? 10 : (int) (10 * bytesDone / bytesTotal);
      if (tenths > tenthsShown || last) {
        tenthsShown = Math.max(tenths, tenthsShown + 1);
        err.println(line);
      }
    }
    err.flush();
  }

  @Override
  public void note(String line) {
    err.println(line);
    err.flush();
  }
}
