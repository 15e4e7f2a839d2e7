package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.rules.ValidModel;
import org.fastllm.dsl.problem.Suggestions;

/**
 * The model-wide rules of a resolved model: blocks and pattern are given, every pattern entry names a block,
 * block names are plain words, {@code num_layers} is at least 1 and every block agrees on the hidden size.
 */
public final class ModelValidator implements ConstraintValidator<ValidModel, ModelConfig> {
  /** Far above any trained model; keeps the expanded plan (one entry per layer) within memory. */
  static final int MAX_LAYERS = 1_000_000;
  private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");

  @Override
  public boolean isValid(ModelConfig model, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    Map<String, BlockConfig> blocks = model.blocks();
    if (blocks == null || blocks.isEmpty()) {
      v.add("blocks", "is required: define at least one named block, e.g. 'alice: {kind: transformer}'");
    } else {
      blocks.forEach((name, block) -> {
        if (!NAME.matcher(name).matches()) {
          v.add("blocks", "block name '" + name + "' must start with a letter or '_' and hold only letters, digits,"
              + " '_' and '-'");
        }
        if (block != null && block.hiddenSize() != null && !block.hiddenSize().equals(model.hiddenSize())) {
          v.add("blocks." + name + ".hidden_size", "is " + block.hiddenSize() + " but the model's hidden_size is "
              + model.hiddenSize() + " (every block shares one residual width)");
        }
      });
    }
    pattern(model.blockPattern(), blocks, v);
    if (model.numLayers() == null) {
      v.add("num_layers", "is required: the number of layers the pattern is repeated to");
    } else if (model.numLayers() < 1) {
      v.add("num_layers", "must be at least 1, got " + model.numLayers());
    } else if (model.numLayers() > MAX_LAYERS) {
      v.add("num_layers", "must be at most " + MAX_LAYERS + ", got " + model.numLayers());
    }
    return v.valid();
  }

  private static void pattern(List<String> pattern, Map<String, BlockConfig> blocks, Violations v) {
    if (pattern == null || pattern.isEmpty()) {
      v.add("block_pattern", "is required: a non-empty list of block names, e.g. [alice, bob]");
      return;
    }
    if (blocks == null || blocks.isEmpty()) {
      return;
    }
    List<String> defined = List.copyOf(blocks.keySet());
    for (int i = 0; i < pattern.size(); i++) {
      String name = pattern.get(i);
      if (!blocks.containsKey(name)) {
        String hint = Suggestions.closest(name, defined).map(c -> "did you mean '" + c + "'?; ").orElse("");
        v.add("block_pattern[" + i + "]", "unknown block '" + name + "' (" + hint + "defined: "
            + String.join(", ", defined) + ")");
      }
    }
  }
}
