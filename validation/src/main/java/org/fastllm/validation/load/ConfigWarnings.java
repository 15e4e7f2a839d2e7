package org.fastllm.validation.load;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.pattern.BlockPattern;
import org.fastllm.dsl.yaml.ConfigPath;
import org.fastllm.dsl.problem.Problem;

/**
 * Things in a valid config that are probably not what the author meant: blocks no layer uses, a pattern cut short,
 * a window size without a sliding window.
 */
final class ConfigWarnings {
  private ConfigWarnings() {}

  /** Warnings for a resolved, valid model; {@code written} is the model as written, to see which keys were given. */
  static List<Problem> of(ModelConfig resolved, ModelConfig written) {
    List<Problem> warnings = new ArrayList<>();
    BlockPattern.cutWarning(resolved).ifPresent(w -> warnings.add(Problem.warning("model.num_layers", w)));
    for (Map.Entry<String, BlockConfig> e : resolved.blocks().entrySet()) {
      String path = ConfigPath.key("model.blocks", e.getKey());
      if (!resolved.blockPattern().contains(e.getKey())) {
        warnings.add(Problem.warning(path, "block '" + e.getKey() + "' is defined but not used in block_pattern"));
      } else if (!resolved.blockPattern().subList(0, Math.min(resolved.numLayers(), resolved.blockPattern().size()))
          .contains(e.getKey())) {
        warnings.add(Problem.warning(path, "block '" + e.getKey() + "' is in block_pattern but num_layers "
            + resolved.numLayers() + " stops before its first use"));
      }
      if (written.blocks().get(e.getKey()) instanceof TransformerBlockConfig t
          && t.windowSize() != null && !Boolean.TRUE.equals(t.slidingWindow())) {
        warnings.add(Problem.warning(ConfigPath.key(path, "window_size"),
            "has no effect without sliding_window: true"));
      }
    }
    return warnings;
  }
}
