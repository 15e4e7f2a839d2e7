package org.fastllm.validation.load;

import java.util.List;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.count.ModelCount;
import org.fastllm.dsl.pattern.StackPlan;
import org.fastllm.dsl.problem.Problem;

/**
 * A config that was read, migrated if needed, validated, expanded and counted: everything short of tensors.
 *
 * @param source where it was read from
 * @param written the config as written (absent keys absent), in the current format
 * @param resolved the same with every default filled in
 * @param plan the expanded stack
 * @param count exact parameter counts
 * @param warnings deprecations and other warnings, in order
 * @param legacy whether the file was in the old format and was migrated
 */
public record LoadedConfig(String source, ConfigDocument written, ConfigDocument resolved, StackPlan plan,
    ModelCount count, List<Problem> warnings, boolean legacy) {

  public LoadedConfig {
    warnings = List.copyOf(warnings);
  }

  public ModelConfig model() {
    return resolved.model();
  }
}
