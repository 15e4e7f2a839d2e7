package org.fastllm.modules.data;

/**
 * What the tokenization of a text file reports while it runs: bytes done of the file's total, and one-line notes
 * (the cache read, a stale or damaged cache rebuilt, a cache folder that had to move).
 *
 * <pre>{@code
 * TokenizationProgress log = new TokenizationProgress() {
 *   public void tokenized(long done, long total) { System.err.println(done + "/" + total); }
 *   public void note(String line) { System.err.println(line); }
 * };
 * }</pre>
 *
 * <p><b>Both methods are called from the thread that loads the data</b>, in order, never concurrently.
 */
public interface TokenizationProgress {
  /** Reports nothing. */
  TokenizationProgress SILENT = new TokenizationProgress() {
    @Override
    public void tokenized(long bytesDone, long bytesTotal) { }

    @Override
    public void note(String line) { }
  };

  /** {@code bytesDone} of the text's {@code bytesTotal} bytes are tokenized and written; the last call has both equal. */
  void tokenized(long bytesDone, long bytesTotal);

  /** One line for the user, without a line break, such as {@code tokens: from cache <path>}. */
  void note(String line);
}
