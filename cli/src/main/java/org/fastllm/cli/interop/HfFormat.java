package org.fastllm.cli.interop;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The Hugging Face architectures this tool reads and writes: their class, {@code model_type}, the prefix of their
 * backbone tensors and their own {@code tie_word_embeddings} default (each class's configuration file).
 */
enum HfFormat {
  LLAMA("LlamaForCausalLM", "llama", "model.", false, false),
  MISTRAL("MistralForCausalLM", "mistral", "model.", false, false),
  QWEN2("Qwen2ForCausalLM", "qwen2", "model.", false, false),
  MAMBA("MambaForCausalLM", "mamba", "backbone.", true, true),
  MAMBA2("Mamba2ForCausalLM", "mamba2", "backbone.", false, true);

  final String architecture;
  final String modelType;
  final String prefix;
  final boolean tieDefault;
  final boolean ssm;

  HfFormat(String architecture, String modelType, String prefix, boolean tieDefault, boolean ssm) {
    this.architecture = architecture;
    this.modelType = modelType;
    this.prefix = prefix;
    this.tieDefault = tieDefault;
    this.ssm = ssm;
  }

  /** The name written after {@code --format}. */
  String option() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Optional<HfFormat> ofModelType(String modelType) {
    return Arrays.stream(values()).filter(f -> f.modelType.equals(modelType)).findFirst();
  }

  static Optional<HfFormat> ofArchitecture(String architecture) {
    return Arrays.stream(values()).filter(f -> f.architecture.equals(architecture)).findFirst();
  }
}
