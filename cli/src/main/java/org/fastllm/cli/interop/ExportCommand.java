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
 * {@code export CHECKPOINT --format llama|mistral|qwen2|mamba|mamba2|fastllm-hf -o DIR}: a folder
 * {@code AutoModelForCausalLM.from_pretrained} loads; LoRA adapters merged, or as a PEFT adapter folder beside it.
 * {@code fastllm-hf} takes any stack of the built-in kinds, its adapters kept as they are.
 *
 * <pre>{@code java -jar fastllm-cli.jar export runs/tiny --format llama -o exported/tiny}</pre>
 */
@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Write a checkpoint, run folder or imported-model folder as a Hugging Face model folder: "
        + "config.json, safetensors ({\"format\": \"pt\"}, sharded above --max-shard-bytes), tokenizer files, "
        + "generation_config.json.",
        "A stack the format cannot hold is refused naming the block, the key and the format that takes it.",
        "LoRA adapters: merged with --merge-lora, else a PEFT adapter folder (DIR/adapter unless --adapter-dir) that "
        + "peft.PeftModel.from_pretrained(base, folder) loads over the exported base."})
public final class ExportCommand implements Callable<Integer> {
  @Parameters(paramLabel = "CHECKPOINT", description = "Checkpoint folder, run folder or imported-model folder.")
  Path checkpoint;

  @Option(names = "--format", required = true, paramLabel = "FORMAT",
      description = "llama, mistral, qwen2, mamba, mamba2, or fastllm-hf (any stack of the built-in kinds, "
          + "under this tool's own config keys and tensor names).")
  String format;

  @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "Folder to write.")
  Path output;

  @Option(names = "--max-shard-bytes", defaultValue = "5000000000", paramLabel = "BYTES",
      description = "Largest safetensors file before the weights are sharded (default: ${DEFAULT-VALUE}).")
  long maxShardBytes;

  @Option(names = "--merge-lora", description = "Fold LoRA adapters into their base weights (W + alpha/rank B A). "
      + "Without it, a checkpoint with adapters is written as its base weights plus a PEFT adapter folder "
      + "(adapter_config.json, adapter_model.safetensors) in DIR/adapter, or --adapter-dir.")
  boolean mergeLora;

  @Option(names = "--adapter-dir", paramLabel = "ADAPTER_DIR",
      description = "Where the PEFT adapter folder goes without --merge-lora (default: DIR/adapter); new or empty.")
  Path adapterDir;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    try {
      if (maxShardBytes <= 0) {
        throw new InteropException("--max-shard-bytes: " + maxShardBytes + " — must be at least 1");
      }
      if (format.equals(FastLlmHfConfig.FORMAT)) {
        if (mergeLora || adapterDir != null) {
          throw new InteropException((mergeLora ? "--merge-lora" : "--adapter-dir") + ": not with --format "
              + FastLlmHfConfig.FORMAT + ", which keeps the LoRA adapters as they are, beside the weights");
        }
        FastLlmHfExport.run(checkpoint, output, maxShardBytes).forEach(spec.commandLine().getOut()::println);
        return Main.OK;
      }
      HfFormat chosen = java.util.Arrays.stream(HfFormat.values()).filter(f -> f.option().equals(format)).findFirst()
          .orElseThrow(() -> new InteropException("--format: '" + format + "' is not a format — allowed: llama, "
              + "mistral, qwen2, mamba, mamba2, fastllm-hf"));
      HfExport.run(checkpoint, chosen, output, maxShardBytes, mergeLora, adapterDir)
          .forEach(spec.commandLine().getOut()::println);
      return Main.OK;
    } catch (InteropException | CheckpointException | java.nio.file.NoSuchFileException e) {
      spec.commandLine().getErr().println("error: " + e.getMessage());
      return Main.INVALID;
    }
  }
}
