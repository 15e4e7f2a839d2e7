package org.fastllm.cli;

/**
 * A run folder that cannot be used: another run holds it or is there, or a file of the run cannot be written. The
 * message names the path and says what to do; {@code train} prints it after {@code error: } and exits 2.
 */
final class RunFolderException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  RunFolderException(String message) {
    super(message);
  }
}
