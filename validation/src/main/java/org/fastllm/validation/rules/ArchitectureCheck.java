package org.fastllm.validation.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.yaml.ConfigPath;

/**
 * Compares the model a checkpoint was trained with against the model a config asks for, key by key of the
 * resolved model sections; training settings of a block ({@code lr_scale}, {@code dropout}) may differ.
 *
 * <pre>{@code
 * // given ModelConfig saved, ModelConfig wanted, BlockKindRegistry kinds
 * ArchitectureCheck.differences(saved, wanted, kinds)
 * // ["model.hidden_size is 128 in the checkpoint, 64 in the config"]
 * }</pre>
 */
public final class ArchitectureCheck {
  private static final Set<String> TRAINING_ONLY = Set.of("lr_scale", "dropout");

  private ArchitectureCheck() {}

  /** Each difference as one sentence, in path order; empty when the architectures agree. */
  public static List<String> differences(ModelConfig checkpoint, ModelConfig config, BlockKindRegistry kinds) {
    return differences(checkpoint, config, kinds, "the checkpoint");
  }

  /** As the three-argument form; {@code source} names where {@code saved} comes from (a folder). */
  public static List<String> differences(ModelConfig saved, ModelConfig config, BlockKindRegistry kinds,
      String source) {
    ObjectMapper json = ConfigMapper.json(kinds);
    List<String> out = new ArrayList<>();
    compare("model", json.valueToTree(saved), json.valueToTree(config), " in " + source + ", ", out);
    return out;
  }

  private static void compare(String path, JsonNode saved, JsonNode wanted, String in, List<String> out) {
    if (saved != null && wanted != null && saved.isObject() && wanted.isObject()) {
      Set<String> keys = new TreeSet<>();
      saved.fieldNames().forEachRemaining(keys::add);
      wanted.fieldNames().forEachRemaining(keys::add);
      List<String> ordered = new ArrayList<>();
      for (Iterator<String> it = wanted.fieldNames(); it.hasNext(); ) {
        ordered.add(it.next());
      }
      keys.stream().filter(k -> !ordered.contains(k)).forEach(ordered::add);
      for (String key : ordered) {
        if (!TRAINING_ONLY.contains(key)) {
          compare(ConfigPath.key(path, key), saved.get(key), wanted.get(key), in, out);
        }
      }
      return;
    }
    if (saved == null || wanted == null || !saved.equals(wanted)) {
      out.add(path + " is " + text(saved) + in + text(wanted) + " in the config");
    }
  }

  private static String text(JsonNode node) {
    if (node == null) {
      return "absent";
    }
    return node.isTextual() ? node.asText() : node.toString();
  }
}
