package org.fastllm.dsl.config;

import jakarta.validation.constraints.Min;
import org.fastllm.dsl.Doc;

/**
 * The {@code checkpoint} section: how often to save and how many saves to keep.
 *
 * <pre>{@code checkpoint: {interval: 100, keep: 2}}</pre>
 *
 * @param interval steps between saves; 0 saves only at the end
 * @param keep how many of the newest checkpoints stay on disk
 */
public record CheckpointConfig(
    @Doc("steps between saves; 0 saves only at the end")
    @Min(value = 0, message = "must be at least 0") Integer interval,
    @Doc("how many of the newest checkpoints stay on disk")
    @Min(value = 1, message = "must be at least 1") Integer keep) {

  public CheckpointConfig withDefaults() {
    return new CheckpointConfig(interval != null ? interval : 0, keep != null ? keep : 2);
  }
}
