package org.fastllm.dsl.bind;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.jsontype.NamedType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.fastllm.dsl.kind.BlockKindRegistry;

/**
 * The Jackson mappers of the config: snake_case keys, unknown keys rejected, block subtypes taken from the
 * {@link BlockKindRegistry}, absent values left out when writing.
 *
 * <pre>{@code ObjectMapper yaml = ConfigMapper.yaml(BlockKindRegistry.installed());}</pre>
 *
 * <p>A block's common keys are one unwrapped component ({@code BlockConfig.common()}), and Jackson does not report
 * unknown keys of an object with an unwrapped part. <b>Read configs through {@link ConfigBinder}</b>, whose
 * {@code ShapeChecker} rejects every unknown key, with its path, before Jackson binds the tree.
 */
public final class ConfigMapper {
  private ConfigMapper() {}

  /** A YAML mapper whose accepted {@code kind} values are exactly the registry's. */
  public static ObjectMapper yaml(BlockKindRegistry kinds) {
    YAMLFactory factory = YAMLFactory.builder()
        .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
        .disable(YAMLGenerator.Feature.USE_NATIVE_TYPE_ID)
        .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
        .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)
        .build();
    return configure(YAMLMapper.builder(factory), kinds);
  }

  /** The same as {@link #yaml} for JSON output ({@code describe --json}, {@code schema}). */
  public static ObjectMapper json(BlockKindRegistry kinds) {
    return configure(JsonMapper.builder(), kinds);
  }

  private static <M extends ObjectMapper, B extends com.fasterxml.jackson.databind.cfg.MapperBuilder<M, B>> M configure(
      B builder, BlockKindRegistry kinds) {
    M mapper = builder
        .propertyNamingStrategy(new ConfigKeys())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .enable(SerializationFeature.INDENT_OUTPUT)
        .defaultPropertyInclusion(JsonInclude.Value.construct(JsonInclude.Include.NON_NULL,
            JsonInclude.Include.NON_NULL))
        .build();
    kinds.all().forEach((kind, block) -> mapper.registerSubtypes(new NamedType(block.configClass(), kind)));
    return mapper;
  }

  /**
   * The YAML key of a record component: an underscore before every capital, so {@code numHeads} is
   * {@code num_heads} and {@code nVHeads} is {@code n_v_heads}.
   */
  public static String keyOf(String componentName) {
    StringBuilder key = new StringBuilder(componentName.length() + 4);
    for (int i = 0; i < componentName.length(); i++) {
      char c = componentName.charAt(i);
      if (Character.isUpperCase(c)) {
        key.append('_').append(Character.toLowerCase(c));
      } else {
        key.append(c);
      }
    }
    return key.toString();
  }

  /** Jackson's naming of config keys: exactly {@link #keyOf}. */
  private static final class ConfigKeys extends PropertyNamingStrategies.NamingBase {
    private static final long serialVersionUID = 1L;

    @Override
    public String translate(String propertyName) {
      return keyOf(propertyName);
    }
  }
}
