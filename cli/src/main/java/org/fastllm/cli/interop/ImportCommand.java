package org.fastllm.cli.interop;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fastllm.cli.Main;
import org.fastllm.modules.checkpoint.CheckpointException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code import HF_FOLDER -o DIR}: a Hugging Face Llama, Mistral, Qwen2 or Mamba folder as an imported-model folder
 * that {@code train --init-from DIR} starts from.
 *
 * <pre>{@code java -jar fastllm-cli.jar import ~/models/tiny-llama -o imported/tiny-llama}</pre>
 */
@Command(name = "import", mixinStandardHelpOptions = true,
    description = {"Convert a Hugging Face model folder (config.json, safetensors, tokenizer files) into a run config "
        + "and weights that 'train --init-from DIR' starts from.",
        "Reads LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, MambaForCausalLM, Mamba2ForCausalLM and "
        + "fastllm-hf folders (model_type fastllm_hybrid, written by export --format fastllm-hf); weights in bf16, "
        + "f16 or f32 become float32. Every config key and tensor must be understood, "
        + "else nothing is written."})
public final class ImportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "HF_FOLDER", description = "Folder with config.json and model.safetensors (or shards).")
  Path folder;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Folder to write.")
  Path output;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try {
      spec.commandLine().getOut().println(HfImport.run(folder, output));
      return Main.OK;
    } catch (InteropException | CheckpointException | java.nio.file.NoSuchFileException e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      return Main.INVALID;
    }
  }
}
