package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.config.rules.ValidDocument;

/**
 * The rules that span sections of a resolved document: with learned position embeddings, a training sequence fits
 * in {@code model.max_sequence_length} (the table has that many rows; rotary-only models have no such limit).
 *
 * <p>The number of processes is known only at launch, so batch against processes is not a rule here.
 */
public final class DocumentValidator implements ConstraintValidator<ValidDocument, ConfigDocument> {
  @Override
  public boolean isValid(ConfigDocument document, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    sequenceFitsPositions(document.model(), document.training(), v);
    return v.valid();
  }

  private static void sequenceFitsPositions(ModelConfig model, TrainingConfig training, Violations v) {
    if (model == null || training == null || training.sequenceLength() == null
        || !Boolean.TRUE.equals(model.positionEmbeddings()) || model.maxSequenceLength() == null) {
      return;
    }
    if (training.sequenceLength() > model.maxSequenceLength()) {
      v.add("training.sequence_length", training.sequenceLength() + " is above model.max_sequence_length ("
          + model.maxSequenceLength() + "), the length of the learned position embeddings; raise"
          + " max_sequence_length or shorten the sequences");
    }
  }
}
