package org.fastllm.cli.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The Python code of a {@code fastllm-hf} folder, which {@code trust_remote_code=True} runs: the configuration and
 * modeling files shipped as resources of this jar, and {@code fastllm_plugins.py}, the mixers of plugin kinds that
 * the modeling file imports ({@code MIXERS}).
 *
 * <pre>{@code
 * // given Path out
 * FastLlmHfCode.write(out);  // configuration_fastllm.py, modeling_fastllm.py, fastllm_plugins.py
 * }</pre>
 */
final class FastLlmHfCode {
  /** The files copied from this jar's resources, as named in the folder. */
  static final List<String> SHIPPED = List.of("configuration_fastllm.py", "modeling_fastllm.py");
  static final String PLUGINS = "fastllm_plugins.py";

  private FastLlmHfCode() {}

  /** Writes the shipped files and the plugin table (no plugin kinds: an empty one) into {@code out}. */
  static void write(Path out) throws IOException {
    for (String name : SHIPPED) {
      Files.writeString(out.resolve(name), shipped(name), StandardCharsets.UTF_8);
    }
    Files.writeString(out.resolve(PLUGINS), pluginTable(Map.of()), StandardCharsets.UTF_8);
  }

  /** The text of a shipped file, as this jar holds it. */
  static String shipped(String name) {
    try (InputStream in = FastLlmHfCode.class.getResourceAsStream("fastllm_hf/" + name)) {
      if (in == null) {
        throw new IllegalStateException("fastllm_hf/" + name + " is missing from this build's resources");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code fastllm_plugins.py}: {@code MIXERS}, the mixer class of each plugin kind by kind, imported from the file
   * named by {@code modules} (kind to Python module name, without {@code .py}); with none, {@code MIXERS = {}}.
   */
  static String pluginTable(Map<String, String> modules) {
    StringBuilder text = new StringBuilder();
    StringBuilder table = new StringBuilder();
    modules.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
      String alias = "_" + e.getValue();
      text.append("from .").append(e.getValue()).append(" import Mixer as ").append(alias).append('\n');
      table.append(table.isEmpty() ? "" : ", ").append('"').append(e.getKey()).append("\": ").append(alias);
    });
    return text.append("MIXERS = {").append(table).append("}\n").toString();
  }
}
