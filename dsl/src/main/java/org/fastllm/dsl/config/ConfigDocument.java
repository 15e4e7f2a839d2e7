package org.fastllm.dsl.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import org.fastllm.dsl.Doc;
import org.fastllm.dsl.config.rules.ValidDocument;

/**
 * A whole config file: the {@code model}, and the run sections {@code train} reads ({@code data},
 * {@code optimizer}, {@code training}, {@code checkpoint}); {@code validate} and {@code describe} need only the model.
 *
 * <pre>{@code
 * // given ConfigLoader loader
 * ConfigDocument doc = loader.load(Path.of("run.yaml")).resolved();
 * }</pre>
 */
@Doc(rules = {
    "with position_embeddings: true, training.sequence_length is at most model.max_sequence_length",
    "for text data, the ids data.tokenizer produces fit model.vocab_size: bytes needs 256; a tokenizer.json its"
        + " largest vocabulary or added-token id plus one (a file that cannot be read is reported by train's data"
        + " checks)"})
@ValidDocument
public record ConfigDocument(
    @Doc("the model: named blocks and the pattern that stacks them")
    @NotNull(message = "is required: a config file starts with 'model:'") @Valid ModelConfig model,
    @Doc("what to train on (train only)") @Valid DataConfig data,
    @Doc("AdamW and the learning-rate schedule (train only)") @Valid OptimizerConfig optimizer,
    @Doc("steps, batch, sequence length, device, precision (train only)") @Valid TrainingConfig training,
    @Doc("how often to save and how many saves to keep (train only)") @Valid CheckpointConfig checkpoint) {

  /** A document with only a model section. */
  public ConfigDocument(ModelConfig model) {
    this(model, null, null, null, null);
  }

  /**
   * Every absent key given its default; a run section that is absent stays absent, so {@code describe --resolved}
   * of a model file shows only the model. See {@link #withRunDefaults()}. The model is resolved by
   * {@link ModelConfig#withDefaults()}; {@code model().withDefaults()} gives it as the {@link ResolvedModel} the
   * stack builder takes.
   */
  public ConfigDocument withDefaults() {
    return new ConfigDocument(model == null ? null : model.withDefaults().config(),
        data == null ? null : data.withDefaults(), optimizer == null ? null : optimizer.withDefaults(),
        training == null ? null : training.withDefaults(), checkpoint == null ? null : checkpoint.withDefaults());
  }

  /** {@link #withDefaults()} with every run section present: what {@code train} runs and what checkpoints store. */
  public ConfigDocument withRunDefaults() {
    return new ConfigDocument(model == null ? null : model.withDefaults().config(),
        (data == null ? new DataConfig(null, null, null, null) : data).withDefaults(),
        (optimizer == null ? new OptimizerConfig(null, null, null, null, null, null, null, null, null) : optimizer)
            .withDefaults(),
        (training == null ? new TrainingConfig(null, null, null, null, null, null, null, null, null, null, null, null)
            : training).withDefaults(),
        (checkpoint == null ? new CheckpointConfig(null, null) : checkpoint).withDefaults());
  }
}
