package org.fastllm.cli.interop;

/** A Hugging Face folder or a checkpoint that cannot be converted; the message names the file, key or tensor. */
final class InteropException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  InteropException(String message) {
    super(message);
  }
}
