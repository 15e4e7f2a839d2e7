package org.fastllm.dsl.bind;

import java.util.Set;
import org.fastllm.dsl.config.ConfigDocument;

/**
 * A document with shape problems bound without the keys those problems are at: unknown keys and wrongly typed
 * values left out, so defaults apply or the key reads as absent. Its rules can be checked, but a rule's problem may
 * then come from the repair itself; {@code removed} and {@code meant} say where to look for that.
 *
 * <pre>{@code
 * // given ConfigBinder binder, YamlDocument yamlDocument
 * binder.repair(yamlDocument).ifPresent(repair -> repair.config().model());
 * }</pre>
 *
 * @param config the records of the repaired copy, absent keys still absent
 * @param removed the paths of the wrongly typed values left out: their defaults apply only because of the repair
 * @param meant the paths an unknown key may have been meant for: the close known key of its record, or when none
 *     is close, every key its record lacks
 */
public record ShapeRepair(ConfigDocument config, Set<String> removed, Set<String> meant) {
  public ShapeRepair {
    removed = Set.copyOf(removed);
    meant = Set.copyOf(meant);
  }
}
