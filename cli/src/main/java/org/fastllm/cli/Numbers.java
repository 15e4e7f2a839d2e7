package org.fastllm.cli;

import java.util.Locale;

/** Number formats for tables: {@code 236,484,960} and {@code 236.5M}. */
final class Numbers {
  private Numbers() {}

  static String grouped(long value) {
    return String.format(Locale.ROOT, "%,d", value);
  }

  static String short_(long value) {
    if (value >= 1_000_000_000L) {
      return String.format(Locale.ROOT, "%.2fB", value / 1e9);
    }
    if (value >= 1_000_000L) {
      return String.format(Locale.ROOT, "%.1fM", value / 1e6);
    }
    if (value >= 1_000L) {
      return String.format(Locale.ROOT, "%.1fk", value / 1e3);
    }
    return Long.toString(value);
  }
}
