package org.fastllm.cli.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.pattern.LayerPlan;

/**
 * The Python files of a {@code fastllm-hf} folder that come from plugin kinds: {@code fastllm_plugin_<kind>.py}
 * per plugin kind of the stack, copied from the plugin's resource {@code fastllm-hf/<kind>.py}, and the registry
 * {@code fastllm_plugins.py} the modeling file imports, which is {@code MIXERS = {}} for a stack of built-in kinds.
 *
 * <pre>{@code
 * // given java.util.List<org.fastllm.dsl.pattern.LayerPlan> layers, BlockKindRegistry kinds
 * Map<String, String> files = FastLlmHfPlugins.files(layers, kinds);  // file name -> content
 * }</pre>
 *
 * <p><b>A plugin kind whose plugin ships no {@code fastllm-hf/<kind>.py} is refused, naming the block.</b>
 */
final class FastLlmHfPlugins {
  static final String REGISTRY = "fastllm_plugins.py";
  static final String RESOURCE_FOLDER = "fastllm-hf/";

  private FastLlmHfPlugins() {}

  /** The files to write, found through each kind's class loader, then the context class loader. */
  static Map<String, String> files(List<LayerPlan> layers, BlockKindRegistry kinds) {
    return files(layers, kind -> read(RESOURCE_FOLDER + kind + ".py",
        kinds.kind(kind).configClass().getClassLoader(), Thread.currentThread().getContextClassLoader()));
  }

  /** The files to write, with {@code code} giving a plugin kind's Python source, or nothing. */
  static Map<String, String> files(List<LayerPlan> layers, Function<String, Optional<String>> code) {
    Map<String, String> aliases = new LinkedHashMap<>();
    Map<String, String> files = new LinkedHashMap<>();
    for (LayerPlan layer : layers) {
      String kind = layer.config().kind();
      if (builtIn(layer.config()) || aliases.containsKey(kind)) {
        continue;
      }
      String where = "model.blocks." + layer.blockName() + ".kind: " + kind + " — ";
      String source = code.apply(kind).orElseThrow(() -> new InteropException(where + "its plugin ships no "
          + RESOURCE_FOLDER + kind + ".py, so --format " + FastLlmHfConfig.FORMAT + " has no Python code for it; "
          + "add that resource to the plugin (a Mixer class, see docs/interop.md) or export a stack of the built-in "
          + "kinds: transformer, ssm"));
      String alias = kind.replaceAll("[^A-Za-z0-9_]", "_");
      aliases.forEach((other, taken) -> {
        if (taken.equals(alias)) {
          throw new InteropException(where + "its Python module " + moduleName(kind) + ".py would be kind " + other
              + "'s; kinds that differ only in characters other than [A-Za-z0-9_] cannot be exported together");
        }
      });
      aliases.put(kind, alias);
      files.put(moduleName(kind) + ".py", source);
    }
    files.put(REGISTRY, registry(aliases));
    return files;
  }

  /** {@code fastllm_plugins.py}: each kind's module imported under an alias, then {@code MIXERS} by kind. */
  private static String registry(Map<String, String> aliases) {
    StringBuilder text = new StringBuilder();
    aliases.forEach((kind, alias) -> text.append("from .fastllm_plugin_").append(alias).append(" import Mixer as _")
        .append(alias).append('\n'));
    List<String> entries = aliases.entrySet().stream().map(e -> pythonString(e.getKey()) + ": _" + e.getValue())
        .toList();
    return text.append("MIXERS = {").append(String.join(", ", entries)).append("}\n").toString();
  }

  /** Whether the modeling file implements the block's kind itself. */
  static boolean builtIn(BlockConfig block) {
    return block instanceof TransformerBlockConfig || block instanceof SsmBlockConfig;
  }

  /** {@code fastllm_plugin_} and the kind, every character but {@code [A-Za-z0-9_]} replaced by {@code _}. */
  static String moduleName(String kind) {
    return "fastllm_plugin_" + kind.replaceAll("[^A-Za-z0-9_]", "_");
  }

  /** {@code text} as a Python string literal. */
  static String pythonString(String text) {
    return '"' + text.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }

  private static Optional<String> read(String resource, ClassLoader... loaders) {
    for (ClassLoader loader : loaders) {
      if (loader == null) {
        continue;
      }
      try (InputStream in = loader.getResourceAsStream(resource)) {
        if (in != null) {
          return Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException(resource + ": " + e.getMessage(), e);
      }
    }
    return Optional.empty();
  }
}
