package org.fastllm.legacy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.List;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.NormalizationConfig;
import org.fastllm.dsl.config.RecordKeys;
import org.fastllm.dsl.config.RotaryConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Puts the keys of a migrated model in one fixed order, the order of the config records' components ({@code kind}
 * and {@code variant} first in a block), so {@code migrate} writes the same text every time.
 *
 * <pre>{@code
 * // given ObjectNode root
 * KeyOrder.sortModel(root.with("model"))
 * }</pre>
 */
final class KeyOrder {
  private KeyOrder() {}

  static void sortModel(ObjectNode model) {
    sort(model, keysOf(ModelConfig.class));
    sortNested(model, "normalization", NormalizationConfig.class);
    JsonNode blocks = model.get("blocks");
    if (blocks instanceof ObjectNode all) {
      all.properties().forEach(e -> {
        if (e.getValue() instanceof ObjectNode block) {
          Class<? extends Record> type = "ssm".equals(block.path("kind").asText())
              ? SsmBlockConfig.class : TransformerBlockConfig.class;
          List<String> order = new ArrayList<>(List.of("kind", "variant"));
          order.addAll(keysOf(type));
          sort(block, order);
          sortNested(block, "normalization", NormalizationConfig.class);
          sortNested(block, "rotary", RotaryConfig.class);
        }
      });
    }
  }

  private static void sortNested(ObjectNode parent, String key, Class<? extends Record> type) {
    if (parent.get(key) instanceof ObjectNode nested) {
      sort(nested, keysOf(type));
    }
  }

  /** Re-inserts the keys of {@code node}: those in {@code order} first, in that order, then the rest as they were. */
  private static void sort(ObjectNode node, List<String> order) {
    ObjectNode copy = node.deepCopy();
    node.removeAll();
    for (String key : order) {
      if (copy.has(key) && !node.has(key)) {
        node.set(key, copy.get(key));
      }
    }
    copy.properties().forEach(e -> {
      if (!node.has(e.getKey())) {
        node.set(e.getKey(), e.getValue());
      }
    });
  }

  private static List<String> keysOf(Class<? extends Record> type) {
    List<String> keys = new ArrayList<>();
    for (RecordComponent component : RecordKeys.of(type)) {
      keys.add(ConfigMapper.keyOf(component.getName()));
    }
    return keys;
  }
}
