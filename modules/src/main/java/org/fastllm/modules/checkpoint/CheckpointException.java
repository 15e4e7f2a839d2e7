package org.fastllm.modules.checkpoint;

/**
 * A checkpoint that cannot be used: missing, damaged, of another format version, or of another architecture.
 * The message says which and what differs; it is meant for the user as it is.
 */
public final class CheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
