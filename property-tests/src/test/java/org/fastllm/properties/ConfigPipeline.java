package org.fastllm.properties;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.validation.load.ConfigLoader;

/**
 * The pipeline the properties exercise, built once per test JVM (building it starts Guice and Hibernate Validator):
 * the standard {@link ConfigLoader} and the config's YAML mapper.
 *
 * <pre>{@code LoadedConfig c = ConfigPipeline.LOADER.load("gen.yaml", ConfigPipeline.yaml(doc));}</pre>
 */
public final class ConfigPipeline {
  public static final ConfigLoader LOADER = ConfigLoader.standard();
  public static final ObjectMapper MAPPER = ConfigMapper.yaml(LOADER.kinds());

  private ConfigPipeline() {}

  /** A config record or tree written as YAML, exactly as the tool writes configs. */
  public static String yaml(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A config record as the YAML tree the tool would write for it. */
  public static ObjectNode tree(Object value) {
    return MAPPER.valueToTree(value);
  }
}
