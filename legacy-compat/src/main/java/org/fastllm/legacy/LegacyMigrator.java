package org.fastllm.legacy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.UncheckedIOException;
import java.util.Optional;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.migrate.Migration;
import org.fastllm.dsl.yaml.YamlDocument;

/**
 * What {@code fastllm-cli migrate old.yaml} needs: the legacy document adapted, and the new-format YAML text of it.
 *
 * <pre>{@code
 * // given PrintStream out, PrintStream err
 * YamlDocument old = new YamlTreeReader().read(Path.of("old.yaml"));
 * new LegacyMigrator().adapt(old).ifPresent(m -> {
 *   m.warnings().forEach(w -> err.println(w.render()));
 *   out.print(LegacyMigrator.toYaml(m.document().root()));
 * });
 * }</pre>
 *
 * <p><b>The same document always gives the same text</b>: keys are written in the config records' order.
 */
public final class LegacyMigrator {
  private final LegacyFormatAdapter adapter = new LegacyFormatAdapter();

  /** The migration, or empty when the document is not in the legacy format (see {@link LegacyFormatAdapter}). */
  public Optional<Migration> adapt(YamlDocument document) {
    return adapter.adapt(document);
  }

  /** The new-format YAML text of a legacy document, or empty when it is not in the legacy format. */
  public Optional<String> migrateToYaml(YamlDocument document) {
    return adapt(document).map(m -> toYaml(m.document().root()));
  }

  /** A config tree as YAML text, with the config mapper's settings. */
  public static String toYaml(JsonNode tree) {
    try {
      return ConfigMapper.yaml(BlockKindRegistry.installed()).writeValueAsString(tree);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
