package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Tensor;
import org.fastllm.modules.checkpoint.Safetensors;

/**
 * LoRA adapters written as a PEFT adapter folder beside an exported base: {@code adapter_config.json} and
 * {@code adapter_model.safetensors}, which {@code PeftModel.from_pretrained(base, folder)} loads.
 *
 * <p><b>A fused linear layer's adapter becomes one adapter per Hugging Face module: the same A, and B split by rows
 * as the weight is.</b> The scale is {@code lora_alpha / r} in both tools, so r and alpha are written as they are;
 * where modules differ from the most common rank or alpha, {@code rank_pattern} / {@code alpha_pattern} name them.
 *
 * <pre>{@code
 * // given Path folder, Path base, List<TensorRule> rules, List<LoraMerge.Adapted> adapted
 * PeftAdapter.write(folder, base, HfFormat.LLAMA, rules, adapted, 2);
 * }</pre>
 */
final class PeftAdapter {
  static final String CONFIG = "adapter_config.json";
  static final String WEIGHTS = "adapter_model.safetensors";
  /** PEFT's names of a saved adapter: {@code base_model.model.} then the module's name in the base model. */
  static final String PREFIX = "base_model.model.";
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private PeftAdapter() {}

  /** One adapted Hugging Face module: its full name in the base model, rank, alpha and dropout. */
  private record HfModule(String name, int rank, double alpha, double dropout) {}

  /** Refuses, before anything is written, an adapted tensor that has no Hugging Face module in the format. */
  static void refuseUnmapped(HfFormat format, List<TensorRule> rules, List<LoraMerge.Adapted> adapted) {
    Set<String> ours = rules.stream().map(TensorRule::ours).collect(Collectors.toSet());
    List<String> unmapped = adapted.stream().map(LoraMerge.Adapted::name).filter(n -> !ours.contains(n)).toList();
    if (!unmapped.isEmpty()) {
      throw new InteropException(String.join(", ", unmapped) + ": LoRA-adapted, but --format " + format.option()
          + " has no module for them — add --merge-lora");
    }
  }

  /** Returns a one-line summary of what was written. */
  static String write(Path folder, Path base, HfFormat format, List<TensorRule> rules, List<LoraMerge.Adapted> adapted,
      int layers) throws IOException {
    Map<String, TensorRule> byOurs = rules.stream().collect(Collectors.toMap(TensorRule::ours, Function.identity()));
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    List<HfModule> modules = new ArrayList<>();
    for (LoraMerge.Adapted a : adapted) {
      TensorRule rule = byOurs.get(a.name());
      long rows = a.b().size(0) / rule.theirs().size();
      for (int i = 0; i < rule.theirs().size(); i++) {
        String weight = format.prefix + rule.theirs().get(i);
        String module = weight.substring(0, weight.length() - ".weight".length());
        tensors.put(PREFIX + module + ".lora_A.weight", a.a().contiguous());
        tensors.put(PREFIX + module + ".lora_B.weight",
            rule.theirs().size() == 1 ? a.b().contiguous() : a.b().narrow(0, i * rows, rows).contiguous());
        modules.add(new HfModule(module, a.lora().rank(), a.scale() * a.lora().rank(),
            a.lora().dropout() == null ? 0.0 : a.lora().dropout()));
      }
    }
    Files.createDirectories(folder);
    Safetensors.write(folder.resolve(WEIGHTS), tensors, Map.of("format", "pt"));
    ObjectNode config = config(base, format, modules, layers);
    Files.writeString(folder.resolve(CONFIG), JSON.writeValueAsString(config));
    return folder + ": PEFT LoRA adapter of " + modules.size() + " modules (r " + config.get("r") + ", lora_alpha "
        + config.get("lora_alpha") + ") for the base " + base;
  }

  private static ObjectNode config(Path base, HfFormat format, List<HfModule> modules, int layers) {
    int rank = mostCommon(modules.stream().map(HfModule::rank).toList());
    double alpha = mostCommon(modules.stream().map(HfModule::alpha).toList());
    ObjectNode json = JSON.createObjectNode();
    json.put("peft_type", "LORA");
    json.put("task_type", "CAUSAL_LM");
    json.put("base_model_name_or_path", base.toAbsolutePath().normalize().toString());
    json.putNull("revision");
    json.put("inference_mode", true);
    json.put("r", rank);
    number(json, "lora_alpha", alpha);
    json.put("lora_dropout", modules.get(0).dropout());
    targets(json, format, modules, layers);
    json.put("fan_in_fan_out", false);
    json.put("bias", "none");
    json.putNull("modules_to_save");
    json.put("init_lora_weights", true);
    json.putNull("layers_to_transform");
    json.putNull("layers_pattern");
    ObjectNode ranks = json.putObject("rank_pattern");
    ObjectNode alphas = json.putObject("alpha_pattern");
    for (HfModule m : modules) {
      // A key matches a module whose name ends with ".<key>" (PEFT's rule); without the backbone prefix it matches
      // in every PEFT version, and the layer index keeps it to one module.
      String key = m.name().substring(format.prefix.length());
      if (m.rank() != rank) {
        ranks.put(key, m.rank());
      }
      if (m.alpha() != alpha) {
        number(alphas, key, m.alpha());
      }
    }
    return json;
  }

  /**
   * {@code target_modules}: the modules' short names when every layer adapts the same ones, else a regular expression
   * that matches exactly the adapted modules' full names (PEFT matches a string in full against each name).
   */
  private static void targets(ObjectNode json, HfFormat format, List<HfModule> modules, int layerCount) {
    Set<String> names = new TreeSet<>();
    Set<String> inLayer = new TreeSet<>();
    Set<String> layers = new TreeSet<>();
    for (HfModule m : modules) {
      names.add(m.name());
      String rest = m.name().substring((format.prefix + "layers.").length());
      layers.add(rest.substring(0, rest.indexOf('.')));
      inLayer.add(rest.substring(rest.indexOf('.') + 1));
    }
    Set<String> shortNames = new TreeSet<>();
    inLayer.forEach(n -> shortNames.add(n.substring(n.lastIndexOf('.') + 1)));
    if (names.size() == (long) layers.size() * inLayer.size() && shortNames.size() == inLayer.size()
        && layers.size() == layerCount) {
      shortNames.forEach(json.putArray("target_modules")::add);
    } else {
      json.put("target_modules", String.join("|", names.stream().map(n -> n.replace(".", "\\.")).toList()));
    }
  }

  private static <T> T mostCommon(List<T> values) {
    Map<T, Long> counts = values.stream().collect(Collectors.groupingBy(Function.identity(), LinkedHashMap::new,
        Collectors.counting()));
    return counts.entrySet().stream().max(Comparator.comparingLong(Map.Entry::getValue)).orElseThrow().getKey();
  }

  private static void number(ObjectNode json, String key, double value) {
    if (value == Math.rint(value) && Math.abs(value) < Integer.MAX_VALUE) {
      json.put(key, (int) value);
    } else {
      json.put(key, value);
    }
  }
}
