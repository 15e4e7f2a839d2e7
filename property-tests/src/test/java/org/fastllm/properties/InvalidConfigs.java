package org.fastllm.properties;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.SsmVariant;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Generators of invalid config texts: a valid generated config with exactly one thing broken, and the config path
 * of the error that must be reported for it.
 *
 * <pre>{@code Broken b = InvalidConfigs.broken().next(draw); b.yaml(); b.expectedPath();  // model.num_layers}</pre>
 *
 * <p>The break is made in the YAML tree, so wrong types and unknown keys reach the reader as a user would write them.
 */
public final class InvalidConfigs {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  /** What was broken, the text to load, and the path an error must name. */
  public record Broken(String breakage, String yaml, String expectedPath) {
    @Override
    public String toString() {
      return breakage + ", expecting an error at " + expectedPath + ":\n" + yaml;
    }
  }

  /** The kinds of damage done, each to one place. */
  enum Breakage {
    HEADS_NOT_DIVISIBLE_BY_GROUPS, UNKNOWN_PATTERN_NAME, NUM_LAYERS_BELOW_ONE, NEGATIVE_SIZE, WRONG_TYPE, UNKNOWN_KEY,
    UNKNOWN_KIND, KEY_OF_ANOTHER_VARIANT
  }

  private InvalidConfigs() {}

  public static Arbitrary<Broken> broken() {
    return draw -> {
      ConfigDocument valid = ConfigGenerators.documents().next(draw);
      ObjectNode root = ConfigPipeline.tree(valid);
      Breakage breakage = draw.pick(List.of(Breakage.values()));
      String path = new Damage(draw, valid.model(), root).apply(breakage);
      return new Broken(breakage.name().toLowerCase(), ConfigPipeline.yaml(root), path);
    };
  }

  /** One breakage applied to a tree; each method returns the path the error must name. */
  private record Damage(Draw d, ModelConfig model, ObjectNode root) {

    String apply(Breakage breakage) {
      return switch (breakage) {
        case HEADS_NOT_DIVISIBLE_BY_GROUPS -> headsNotDivisible();
        case UNKNOWN_PATTERN_NAME -> unknownPatternName();
        case NUM_LAYERS_BELOW_ONE -> set("model.num_layers", NODES.numberNode(d.between(-3, 0)));
        case NEGATIVE_SIZE -> negativeSize();
        case WRONG_TYPE -> wrongType();
        case UNKNOWN_KEY -> unknownKey();
        case UNKNOWN_KIND -> set(blockPath(d.pick(names())) + ".kind",
            NODES.textNode(d.pick(List.of("transfomer", "mamba", "attention", "SSM", "moe"))));
        case KEY_OF_ANOTHER_VARIANT -> keyOfAnotherVariant();
      };
    }

    private String headsNotDivisible() {
      String block = transformerBlock();
      int groups = d.between(2, 5);
      int heads = groups * d.between(1, 3) + d.between(1, groups - 1);
      set(blockPath(block) + ".attention_type", NODES.textNode("gqa"));
      set(blockPath(block) + ".num_heads", NODES.numberNode(heads));
      set(blockPath(block) + ".head_size", NODES.numberNode(8));
      return set(blockPath(block) + ".head_groups", NODES.numberNode(groups));
    }

    private String unknownPatternName() {
      int index = d.between(0, model.blockPattern().size() - 1);
      String name = d.pick(List.of("nobody", model.blockPattern().get(index) + "x", "b" + d.between(0, 99)));
      ((com.fasterxml.jackson.databind.node.ArrayNode) node("model.block_pattern")).set(index, NODES.textNode(name));
      return "model.block_pattern[" + index + "]";
    }

    private String negativeSize() {
      JsonNode bad = NODES.numberNode(d.between(-64, -1));
      String block = d.pick(names());
      String path = blockPath(block);
      List<String> targets = new ArrayList<>(List.of("model.hidden_size", "model.vocab_size",
          "model.max_sequence_length", path + ".ffn_hidden_size", path + ".lora.rank"));
      if (model.blocks().get(block) instanceof TransformerBlockConfig) {
        targets.addAll(List.of(path + ".num_heads", path + ".head_size"));
      } else {
        targets.addAll(List.of(path + ".state_size", path + ".d_inner", path + ".conv_kernel_size"));
      }
      String target = d.pick(targets);
      if (target.endsWith(".lora.rank") && node(path + ".lora") == null) {
        ((ObjectNode) node(path)).putObject("lora");
      }
      return set(target, bad);
    }

    private String wrongType() {
      String block = blockPath(d.pick(names()));
      record Wrong(String path, JsonNode value) {}
      List<Wrong> options = List.of(
          new Wrong("model.num_layers", NODES.textNode("many")),
          new Wrong("model.num_layers", NODES.numberNode(2.5)),
          new Wrong("model.hidden_size", NODES.arrayNode().add(16)),
          new Wrong("model.block_pattern", NODES.textNode(model.blockPattern().get(0))),
          new Wrong("model.blocks", NODES.arrayNode().add(model.blockPattern().get(0))),
          new Wrong("model.tied_embedding_weight", NODES.textNode(d.pick(List.of("no", "yes", "off")))),
          new Wrong(block + ".shared_weights", NODES.numberNode(1)),
          new Wrong(block + ".lr_scale", NODES.textNode("fast")),
          new Wrong(block + ".ffn_hidden_size", NODES.textNode("1024")),
          new Wrong(block + ".normalization", NODES.textNode("rms_norm")),
          new Wrong(block + ".activation", NODES.textNode("swish")),
          new Wrong(block, NODES.textNode("transformer")));
      Wrong wrong = d.pick(options);
      return set(wrong.path(), wrong.value());
    }

    private String unknownKey() {
      String block = blockPath(d.pick(names()));
      List<String> parents = List.of("", "model", block, block);
      String parent = d.pick(parents);
      String key = switch (parent) {
        case "" -> d.pick(List.of("modle", "training_typo"));
        case "model" -> d.pick(List.of("hiden_size", "num_layer", "blocks_pattern", "layers"));
        default -> d.pick(List.of("num_haeds", "shared_weight", "head_group", "statesize", "foo"));
      };
      String path = parent.isEmpty() ? key : parent + "." + key;
      return set(path, NODES.numberNode(4));
    }

    private String keyOfAnotherVariant() {
      String block = ssmBlock();
      SsmVariant variant = SsmVariant.valueOf(node(blockPath(block) + ".variant").asText().toUpperCase());
      String key = switch (variant) {
        case MAMBA1 -> d.pick(List.of("d_xb", "n_qk_heads", "chunk_size"));
        case MAMBA2 -> d.pick(List.of("n_qk_heads", "n_v_heads", "chunk_size"));
        case DISCRETE_MAMBA2 -> d.pick(List.of("d_xb", "dt_rank", "n_groups"));
        case MAMBA2_STANDARD -> d.pick(List.of("d_xb", "dt_rank", "n_qk_heads"));
      };
      ObjectNode b = (ObjectNode) node(blockPath(block));
      b.remove(List.of("d_xb", "n_qk_heads", "n_v_heads", "chunk_size", "dt_rank", "n_groups")); // keep others' own keys valid
      return set(blockPath(block) + "." + key, NODES.numberNode(4));
    }

    /** A transformer block's name; when the model has none, one is added to {@code blocks}. */
    private String transformerBlock() {
      return blockOfType(TransformerBlockConfig.class, "kind", "transformer");
    }

    private String ssmBlock() {
      return blockOfType(SsmBlockConfig.class, "variant", d.pick(List.of("mamba1", "mamba2", "discrete_mamba2")));
    }

    private String blockOfType(Class<? extends BlockConfig> type, String key, String value) {
      List<String> matching = model.blocks().entrySet().stream()
          .filter(e -> type.isInstance(e.getValue())).map(Map.Entry::getKey).toList();
      if (!matching.isEmpty()) {
        return d.pick(matching);
      }
      ObjectNode added = ((ObjectNode) node("model.blocks")).putObject("zed");
      added.put("kind", type == TransformerBlockConfig.class ? "transformer" : "ssm");
      added.put(key, value);
      return "zed";
    }

    private List<String> names() {
      return List.copyOf(model.blocks().keySet());
    }

    private static String blockPath(String name) {
      return "model.blocks." + name;
    }

    /** The node at a dotted path of keys, or null. */
    private JsonNode node(String path) {
      JsonNode at = root;
      for (String key : path.split("\\.")) {
        at = at == null ? null : at.get(key);
      }
      return at;
    }

    /** Sets the value at a dotted path whose parent exists, and returns the path. */
    private String set(String path, JsonNode value) {
      int cut = path.lastIndexOf('.');
      ObjectNode parent = cut < 0 ? root : (ObjectNode) node(path.substring(0, cut));
      parent.set(path.substring(cut + 1), value);
      return path;
    }
  }
}
