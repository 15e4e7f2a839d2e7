package org.fastllm.validation.rules;

import jakarta.validation.ConstraintValidator;
import jakarta.validation.ConstraintValidatorContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.OptionalInt;
import org.fastllm.dsl.config.ConfigDocument;
import org.fastllm.dsl.config.DataConfig;
import org.fastllm.dsl.config.DataFormat;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.config.rules.ValidDocument;

/**
 * The rules that span sections of a resolved document: with learned position embeddings, a training sequence fits
 * in {@code model.max_sequence_length} (the table has that many rows; rotary-only models have no such limit), and
 * the ids the text's tokenizer produces fit in {@code model.vocab_size}.
 *
 * <p>A {@code tokenizer.json} is read as plain JSON (its {@code model.vocab} and {@code added_tokens}), never through
 * the native tokenizer library; one that is missing or unreadable is left to {@code train}'s data checks, which name
 * what is wrong with it.
 *
 * <p>The number of processes is known only at launch, so batch against processes is not a rule here.
 */
public final class DocumentValidator implements ConstraintValidator<ValidDocument, ConfigDocument> {
  @Override
  public boolean isValid(ConfigDocument document, ConstraintValidatorContext context) {
    Violations v = new Violations(context);
    sequenceFitsPositions(document.model(), document.training(), v);
    tokenizerFitsVocabulary(document.model(), document.data(), v);
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

  private static void tokenizerFitsVocabulary(ModelConfig model, DataConfig data, Violations v) {
    if (model == null || model.vocabSize() == null || data == null || data.format() != DataFormat.TEXT
        || data.tokenizer() == null) {
      return;
    }
    boolean bytes = DataConfig.BYTES.equals(data.tokenizer());
    OptionalInt ids = bytes ? OptionalInt.of(BYTE_VOCABULARY) : vocabularyOf(data.tokenizer());
    if (ids.isPresent() && ids.getAsInt() > model.vocabSize()) {
      v.add("data.tokenizer", (bytes ? "bytes" : data.tokenizer()) + " produces ids up to " + (ids.getAsInt() - 1)
          + " but model.vocab_size is " + model.vocabSize() + "; set model.vocab_size to at least " + ids.getAsInt());
    }
  }

  /** The ids of the byte tokenizer: one per byte value. */
  private static final int BYTE_VOCABULARY = 256;

  /** The largest id in a tokenizer.json's vocabulary and added tokens, plus one; empty when it cannot be read. */
  private static OptionalInt vocabularyOf(String tokenizer) {
    JsonNode root;
    try {
      Path file = Path.of(tokenizer);
      if (!Files.isRegularFile(file)) {
        return OptionalInt.empty();
      }
      root = new ObjectMapper().readTree(file.toFile());
    } catch (IOException | InvalidPathException e) {
      return OptionalInt.empty();
    }
    int max = -1;
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      for (JsonNode id : (Iterable<JsonNode>) vocab::elements) {
        max = Math.max(max, id.asInt());
      }
    } else if (vocab.isArray()) {
      max = vocab.size() - 1;
    }
    for (JsonNode added : root.path("added_tokens")) {
      max = Math.max(max, added.path("id").asInt());
    }
    return max < 0 ? OptionalInt.empty() : OptionalInt.of(max + 1);
  }
}
