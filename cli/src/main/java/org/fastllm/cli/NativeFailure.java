package org.fastllm.cli;

import java.util.Locale;
import java.util.Optional;

/**
 * A failure inside libtorch, which JavaCPP hands over as a {@link RuntimeException} whose message is the whole
 * {@code c10::Error} text: a first line saying what went wrong, then "Exception raised from ..." and lines of native
 * frames. The user sees the first line and a hint; the frames only with {@code --debug}.
 */
final class NativeFailure {
  private static final String RAISED_FROM = "Exception raised from ";
  private static final String ENFORCE = "[enforce fail at ";

  private NativeFailure() {}

  /** The first line of libtorch's message, when {@code e} or one of its causes is a libtorch failure. */
  static Optional<String> firstLine(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String message = t.getMessage();
      if (t instanceof RuntimeException && message != null
          && (message.contains(RAISED_FROM) || message.startsWith(ENFORCE))) {
        String first = message.strip().lines().findFirst().orElse("").strip();
        return Optional.of(first.startsWith(RAISED_FROM) ? "libtorch failed" : first);
      }
    }
    return Optional.empty();
  }

  /** What the user can do about the failure that {@code line} describes. */
  static String hint(String line) {
    String lower = line.toLowerCase(Locale.ROOT);
    if (lower.contains("allocate") || lower.contains("out of memory") || lower.contains("not enough memory")) {
      return "the model does not fit in this device's memory; see fastllm-cli describe for its size, and make it or"
          + " the batch smaller";
    }
    return "libtorch refused this run; run with --debug for its full message";
  }
}
