package org.fastllm.validation.load;

import com.google.inject.Guice;
import com.google.inject.Injector;
import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorFactory;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ElementKind;
import jakarta.validation.Path;
import jakarta.validation.Validation;
import jakarta.validation.Validator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.fastllm.dsl.bind.ConfigMapper;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.dsl.yaml.ConfigPath;
import org.hibernate.validator.HibernateValidator;
import org.hibernate.validator.messageinterpolation.ParameterMessageInterpolator;

/**
 * Runs the Jakarta Bean Validation constraints of the config records and turns each violation into a
 * {@link Problem} on its snake_case config path, with the offending value.
 *
 * <p>Validators are created by Guice, so they can ask for the {@link BlockKindRegistry}.
 */
final class BeanValidation {
  private final Validator validator;

  /** The registry is asked for only when a validator needs it, so the validator can start before it exists. */
  BeanValidation(java.util.function.Supplier<BlockKindRegistry> kinds) {
    java.util.concurrent.atomic.AtomicReference<Injector> injector = new java.util.concurrent.atomic.AtomicReference<>();
    ConstraintValidatorFactory factory = new ConstraintValidatorFactory() {
      @Override
      public <T extends ConstraintValidator<?, ?>> T getInstance(Class<T> type) {
        Injector made = injector.updateAndGet(i -> i != null ? i
            : Guice.createInjector(b -> b.bind(BlockKindRegistry.class).toInstance(kinds.get())));
        return made.getInstance(type);
      }

      @Override
      public void releaseInstance(ConstraintValidator<?, ?> instance) {}
    };
    this.validator = Validation.byProvider(HibernateValidator.class)
        .configure()
        .messageInterpolator(new ParameterMessageInterpolator())
        .constraintValidatorFactory(factory)
        .buildValidatorFactory()
        .getValidator();
  }

  /**
   * Validates a small config once, so the metadata of the config records is built before the user's config
   * arrives (on a cold start this runs beside YAML reading).
   */
  BeanValidation warmedUp() {
    var blocks = new java.util.LinkedHashMap<String, org.fastllm.dsl.config.BlockConfig>();
    blocks.put("a", org.fastllm.dsl.config.TransformerBlockConfig.empty());
    for (var variant : org.fastllm.dsl.config.SsmVariant.values()) {
      blocks.put(variant.yamlName(), org.fastllm.dsl.config.SsmBlockConfig.of(variant));
    }
    var model = new org.fastllm.dsl.config.ModelConfig(64, 16, null, null, blocks, List.copyOf(blocks.keySet()),
        blocks.size(), null, null);
    validate(new ConfigDocument(model).withDefaults());
    return this;
  }

  List<Problem> validate(ConfigDocument resolved) {
    List<Problem> problems = new ArrayList<>();
    try {
      validator.validate(resolved).forEach(v -> problems.add(toProblem("", v)));
      commonKeysOfEveryBlock(resolved.model(), problems);
    } catch (jakarta.validation.ValidationException e) {
      // A plugin that declares a constraint without registering its validator: say which, do not crash.
      return List.of(Problem.error("model", "a block kind's rules could not be checked (" + e.getMessage()
          + "); is the plugin's META-INF/services/jakarta.validation.ConstraintValidator missing?"));
    }
    problems.sort(Comparator.comparing(Problem::path));
    return problems;
  }

  /**
   * The bounds of the keys every block has, checked here for every block rather than through a {@code @Valid} the
   * kind's record might leave out: a plugin kind gets the core kinds' bounds and messages, on the flat paths YAML
   * writes ({@code model.blocks.a.lr_scale}, no {@code common} in between).
   */
  private void commonKeysOfEveryBlock(ModelConfig model, List<Problem> problems) {
    if (model == null || model.blocks() == null) {
      return;
    }
    String blocks = ConfigPath.key("model", "blocks");
    model.blocks().forEach((name, block) -> {
      if (block != null && block.common() != null) {
        String path = ConfigPath.key(blocks, name);
        validator.validate(block.common()).forEach(v -> problems.add(toProblem(path, v)));
      }
    });
  }

  /** The violation as a problem on its config path, below {@code parent} (empty for the document). */
  private static Problem toProblem(String parent, ConstraintViolation<?> violation) {
    String below = path(violation.getPropertyPath());
    String path = parent.isEmpty() ? below : below.isEmpty() ? parent : ConfigPath.key(parent, below);
    String message = violation.getMessage();
    Object value = violation.getInvalidValue();
    if (value instanceof org.fastllm.dsl.config.YamlEnum e) {
      message += ", got " + e.yamlName();
    } else if (value != null && isScalar(value)) {
      message += ", got " + value;
    }
    return Problem.error(path, message);
  }

  static String path(Path propertyPath) {
    String path = "";
    for (Path.Node node : propertyPath) {
      if (node.isInIterable()) {
        path = node.getIndex() != null ? ConfigPath.index(path, node.getIndex())
            : node.getKey() != null ? ConfigPath.key(path, String.valueOf(node.getKey())) : path;
      }
      if (node.getName() != null && node.getKind() != ElementKind.CONTAINER_ELEMENT) {
        path = ConfigPath.key(path, ConfigMapper.keyOf(node.getName()));
      }
    }
    return path;
  }

  private static boolean isScalar(Object value) {
    return value instanceof Number || value instanceof Boolean || value instanceof CharSequence
        || value instanceof Enum<?>;
  }
}
