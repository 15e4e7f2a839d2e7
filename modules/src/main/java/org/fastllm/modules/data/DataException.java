package org.fastllm.modules.data;

/**
 * A data file or tokenizer that cannot be used as it is: the message names the config key and the file, says what
 * is wrong and what is allowed. It is bad input, never a bug, so it is an {@link IllegalArgumentException}.
 */
public final class DataException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public DataException(String message) {
    super(message);
  }
}
