package org.fastllm.dsl.config;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import org.fastllm.dsl.Doc;

/**
 * The {@code data} section: what to train on.
 *
 * <pre>{@code
 * data:
 *   path: corpus.txt          # absent: the built-in corpus
 *   format: text              # text | tokens_u16 | tokens_u32
 *   tokenizer: bytes          # bytes, or the path of a Hugging Face tokenizer.json
 *   validation_fraction: 0.05
 * }</pre>
 *
 * <p>A token file is read as little-endian ids and needs no tokenizer. The held-out split is the end of the data.
 *
 * @param path a UTF-8 text file or a binary token file, relative to the working directory
 */
public record DataConfig(
    @Doc(value = "a UTF-8 text file or a binary token file, relative to the working directory", defaultValue = "the built-in corpus")
    String path,
    @Doc("how the file is stored")
    DataFormat format,
    @Doc("bytes, or the path of a Hugging Face tokenizer.json (text only)")
    String tokenizer,
    @DecimalMin(value = "0.0", message = "must be at least 0")
    @Doc("share of the data, from its end, held out for evaluation")
    @DecimalMax(value = "0.5", message = "must be at most 0.5") Double validationFraction) {

  public static final String BYTES = "bytes";

  public DataConfig withDefaults() {
    return new DataConfig(path, format != null ? format : DataFormat.TEXT, tokenizer != null ? tokenizer : BYTES,
        validationFraction != null ? validationFraction : 0.05);
  }
}
