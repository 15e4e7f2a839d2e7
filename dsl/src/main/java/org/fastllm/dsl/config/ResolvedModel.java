package org.fastllm.dsl.config;

/**
 * A model config with every default filled in, blocks included: what the stack builder builds. Only
 * {@link ModelConfig#withDefaults()} makes one, so a config that was not resolved cannot reach the builder.
 *
 * <pre>{@code
 * ResolvedModel model = written.model().withDefaults();
 * LanguageModel built = StackBuilder.installed().build(model);
 * model.config().hiddenSize();  // never null
 * }</pre>
 *
 * <p>{@link ConfigDocument#withDefaults()} and {@link ConfigDocument#withRunDefaults()} resolve their model the same
 * way; resolving again is harmless ({@code withDefaults} is idempotent), so {@code doc.model().withDefaults()} is
 * how code holding a resolved document hands its model to the builder.
 */
public final class ResolvedModel {
  private final ModelConfig config;

  ResolvedModel(ModelConfig config) {
    this.config = config;
  }

  /** The resolved record: no absent value except those that do not apply. */
  public ModelConfig config() {
    return config;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof ResolvedModel r && config.equals(r.config);
  }

  @Override
  public int hashCode() {
    return config.hashCode();
  }

  @Override
  public String toString() {
    return config.toString();
  }
}
