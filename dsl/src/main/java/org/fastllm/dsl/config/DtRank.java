package org.fastllm.dsl.config;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * The rank of an SSM's time-step projection: {@code auto} (ceil(hidden_size / 16)) or a positive number.
 *
 * <pre>{@code DtRank.AUTO.resolve(1024)  // 64}</pre>
 */
public record DtRank(Integer value) implements AutoOrCount {

  public static final DtRank AUTO = new DtRank(null);

  @JsonCreator
  public static DtRank of(Object raw) {
    if (raw instanceof Number n) {
      return new DtRank(n.intValue());
    }
    if ("auto".equals(raw)) {
      return AUTO;
    }
    throw new IllegalArgumentException("dt_rank must be 'auto' or a whole number, got '" + raw + "'");
  }

  public int resolve(int hiddenSize) {
    return isAuto() ? (hiddenSize + 15) / 16 : value;
  }
}
