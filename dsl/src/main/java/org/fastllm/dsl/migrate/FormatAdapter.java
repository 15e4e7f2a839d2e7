package org.fastllm.dsl.migrate;

import java.util.Optional;
import org.fastllm.dsl.yaml.YamlDocument;

/**
 * Rewrites a config written in an older format into the current one, before binding. Found by
 * {@link java.util.ServiceLoader} through {@code META-INF/services/org.fastllm.dsl.migrate.FormatAdapter}.
 *
 * <pre>{@code
 * // given FormatAdapter adapter, YamlDocument doc, PrintStream err
 * adapter.adapt(doc).ifPresent(m -> m.warnings().forEach(w -> err.println(w.render())));
 * }</pre>
 *
 * <p><b>An adapter returns empty for documents that are not in its format, and never changes them.</b>
 */
public interface FormatAdapter {

  /** The document rewritten to the current format with one warning per legacy section or renamed key. */
  Optional<Migration> adapt(YamlDocument document);
}
