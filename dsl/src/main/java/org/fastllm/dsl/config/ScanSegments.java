package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * How many time segments the selective scan's backward kernel runs side by side: {@code auto} (chosen from the
 * GPU's resident blocks) or a positive number.
 *
 * <pre>{@code training: {kernels: {scan_segments: 4}}}</pre>
 */
public record ScanSegments(Integer value) implements AutoOrCount {

  public static final ScanSegments AUTO = new ScanSegments(null);

  @JsonCreator
  public static ScanSegments of(Object raw) {
    if (raw instanceof Number n) {
      return new ScanSegments(n.intValue());
    }
    if ("auto".equals(raw)) {
      return AUTO;
    }
    throw new IllegalArgumentException("scan_segments must be 'auto' or a whole number, got '" + raw + "'");
  }
}
