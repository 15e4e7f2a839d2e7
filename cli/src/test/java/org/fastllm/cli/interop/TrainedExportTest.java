package org.fastllm.cli.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.fastllm.cli.interop.HfInteropTest.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.checkpoint.Checkpoint;
import org.fastllm.modules.checkpoint.Safetensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run folder written by a real {@code train} (a tiny Qwen2-shaped stack with LoRA on every linear layer, two
 * steps) exported and imported back: the base weights come back bit for bit, the adapters as a PEFT folder.
 */
class TrainedExportTest {
  @TempDir static Path shared;
  @TempDir Path dir;
  static Path run;

  @BeforeAll
  static void trainTwoSteps() throws Exception {
    Path config = shared.resolve("qwen2-lora.yaml");
    Files.writeString(config, """
        model:
          hidden_size: 32
          vocab_size: 256
          tied_embedding_weight: false
          normalization: {type: rms_norm, epsilon: 1.0e-6}
          max_sequence_length: 64
          blocks:
            attention: {kind: transformer, attention_type: gqa, num_heads: 4, head_groups: 2, ffn_hidden_size: 48,
                        gated: true, activation: silu, add_linear_biases: false, qkv_biases: true,
                        rotary: {type: default, theta: 1000000.0},
                        lora: {rank: 2, alpha: 8.0, targets: [query, key_value, dense, layer_1, layer_2]}}
          block_pattern: [attention]
          num_layers: 2
        training: {steps: 2, sequence_length: 32, batch_size: 2, eval_batches: 1, device: cpu}
        """);
    run = shared.resolve("run");
    HfInteropTest.Result r = cli("train", "--config", config.toString(), "training.output_dir=" + run);
    assertThat(r.exit()).as(r.err()).isZero();
  }

  @Test
  void export_ofATrainedRun_importsBackWithBitIdenticalBaseWeights() throws Exception {
    Map<String, Tensor> trained = Safetensors.read(Checkpoint.locate(run).resolve("model.safetensors")).tensors();
    HfInteropTest.Result exported = cli("export", run.toString(), "--format", "qwen2", "-o",
        dir.resolve("hf").toString());
    assertThat(exported.exit()).as(exported.err()).isZero();
    assertThat(dir.resolve("hf/adapter").resolve(PeftAdapter.CONFIG)).exists();
    HfInteropTest.Result imported = cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("back").toString());
    assertThat(imported.exit()).as(imported.err()).isZero();
    Map<String, Tensor> back = Safetensors.read(dir.resolve("back/model.safetensors")).tensors();
    Map<String, Tensor> base = new LinkedHashMap<>(trained);
    base.keySet().removeIf(n -> n.contains(".lora."));
    assertThat(back.keySet()).containsExactlyInAnyOrderElementsOf(base.keySet());
    base.forEach((name, t) -> assertThat(torch.equal(t, back.get(name))).as(name).isTrue());
    // Two steps of training moved B away from its zero start: the adapter folder is not a no-op.
    Tensor b = Safetensors.read(dir.resolve("hf/adapter").resolve(PeftAdapter.WEIGHTS)).tensors()
        .get(PeftAdapter.PREFIX + "model.layers.1.mlp.up_proj.lora_B.weight");
    assertThat(b.abs().max().item_double()).isGreaterThan(0.0);
  }

  @Test
  void export_ofATrainedRunMerged_importsBackWithTheMergedWeightsAndTheRestBitIdentical() throws Exception {
    Map<String, Tensor> trained = Safetensors.read(Checkpoint.locate(run).resolve("model.safetensors")).tensors();
    HfInteropTest.Result exported = cli("export", run.toString(), "--format", "qwen2", "--merge-lora", "-o",
        dir.resolve("hf").toString());
    assertThat(exported.exit()).as(exported.err()).isZero();
    assertThat(cli("import", dir.resolve("hf").toString(), "-o", dir.resolve("back").toString()).exit()).isZero();
    Map<String, Tensor> back = Safetensors.read(dir.resolve("back/model.safetensors")).tensors();
    for (String name : back.keySet()) {
      String adapter = name.replace("mixer.", "lora.").replace("mlp.", "lora.").replace(".weight", "");
      Tensor a = trained.get(adapter + ".a");
      if (a == null) {
        assertThat(torch.equal(trained.get(name), back.get(name))).as(name).isTrue();
      } else {
        Tensor b = trained.get(adapter + ".b").to(torch.ScalarType.Double);
        Tensor reference = trained.get(name).to(torch.ScalarType.Double)
            .add(b.matmul(a.to(torch.ScalarType.Double)).mul(new org.bytedeco.pytorch.Scalar(4.0)));
        assertThat(back.get(name).to(torch.ScalarType.Double).sub(reference).abs().max().item_double()).as(name)
            .isLessThan(1e-5);
      }
    }
  }
}
