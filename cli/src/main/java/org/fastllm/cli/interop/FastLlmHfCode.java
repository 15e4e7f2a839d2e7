package org.fastllm.cli.interop;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The Python code of a {@code fastllm-hf} folder that {@code trust_remote_code=True} runs, the configuration and
 * modeling files shipped as resources of this jar; the modeling file imports {@code MIXERS}, the plugin kinds' layers,
 * from {@code fastllm_plugins.py}, which {@link FastLlmHfPlugins} writes.
 *
 * <pre>{@code
 * // given Path out
 * FastLlmHfCode.write(out);  // configuration_fastllm.py, modeling_fastllm.py
 * }</pre>
 */
final class FastLlmHfCode {
  /** The files copied from this jar's resources, as named in the folder. */
  static final List<String> SHIPPED = List.of("configuration_fastllm.py", "modeling_fastllm.py");

  private FastLlmHfCode() {}

  /** Writes the shipped files into {@code out}; {@link FastLlmHfPlugins} gives {@code fastllm_plugins.py}. */
  static void write(Path out) throws IOException {
    for (String name : SHIPPED) {
      Files.writeString(out.resolve(name), shipped(name), StandardCharsets.UTF_8);
    }
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
}
