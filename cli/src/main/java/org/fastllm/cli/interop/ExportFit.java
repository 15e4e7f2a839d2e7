package org.fastllm.cli.interop;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fastllm.dsl.config.Activation;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.RotaryType;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * Whether a resolved model fits one Hugging Face format: every block, key by key; each misfit names the block, the
 * key, and the format that would take it.
 */
final class ExportFit {
  private ExportFit() {}

  static void check(Path folder, ModelConfig model, HfFormat format) {
    List<String> problems = new ArrayList<>();
    if (Boolean.TRUE.equals(model.positionEmbeddings())) {
      problems.add("model.position_embeddings: true — no Hugging Face format here has learned positions");
    }
    if (!HfExport.isRms(model)) {
      problems.add("model.normalization.type: layer_norm — " + format.option() + " uses rms_norm");
    }
    BlockConfig reference = null;
    for (Map.Entry<String, BlockConfig> e : model.blocks().entrySet()) {
      if (!model.blockPattern().contains(e.getKey())) {
        continue;
      }
      String where = "model.blocks." + e.getKey();
      BlockConfig block = e.getValue();
      CommonBlockKeys common = block.common();
      if (!common.normalization().equals(model.normalization())) {
        problems.add(where + ".normalization differs from the model's — " + format.option() + " has one norm setting");
      }
      if (format.ssm) {
        fitSsm(where, block, format, problems);
      } else {
        fitTransformer(where, block, format, problems);
      }
      BlockConfig comparable = withoutTraining(block);
      if (reference == null) {
        reference = comparable;
      } else if (!reference.equals(comparable)) {
        problems.add(where + " differs from the stack's first block — " + format.option() + " repeats one layer "
            + "(mixed stacks: --format fastllm-hf)");
      }
    }
    if (!problems.isEmpty()) {
      throw new InteropException(folder + ": does not fit --format " + format.option() + ": "
          + String.join("; ", problems));
    }
  }

  private static void fitTransformer(String where, BlockConfig block, HfFormat format, List<String> problems) {
    if (!HfExport.isTransformer(block)) {
      problems.add(where + ".kind: " + block.kind() + " — " + format.option() + " holds transformer blocks only "
          + (HfExport.isMamba1(block) ? "(ssm mamba1 blocks: --format mamba)"
              : "(mixed stacks: --format fastllm-hf)"));
      return;
    }
    TransformerBlockConfig t = (TransformerBlockConfig) block;
    CommonBlockKeys c = t.common();
    if (!Boolean.TRUE.equals(c.gated()) || c.activation() != Activation.SILU || c.ffnHiddenSize() == 0) {
      problems.add(where + ": the MLP must be gated with activation silu and ffn_hidden_size > 0");
    }
    if (Boolean.TRUE.equals(c.addLinearBiases())) {
      problems.add(where + ".add_linear_biases: true — " + format.option() + " has no linear biases"
          + (format == HfFormat.QWEN2 ? " besides q/k/v (qkv_biases: true, add_linear_biases: false)" : ""));
    } else if (t.queryKeyValueBiases() && format != HfFormat.QWEN2) {
      problems.add(where + ".qkv_biases: true — --format qwen2 takes it");
    } else if (!t.queryKeyValueBiases() && format == HfFormat.QWEN2) {
      problems.add(where + ".qkv_biases: false — qwen2 has q/k/v biases; --format llama takes a stack without them");
    }
    if (t.rotary().type() != RotaryType.DEFAULT) {
      problems.add(where + ".rotary.type: none — " + format.option() + " uses rotary embeddings");
    }
    if (!Boolean.TRUE.equals(t.causal())) {
      problems.add(where + ".causal: false — causal language models only");
    }
    if (Boolean.TRUE.equals(t.slidingWindow()) && format != HfFormat.MISTRAL) {
      problems.add(where + ".sliding_window: true — --format mistral takes it");
    }
  }

  private static void fitSsm(String where, BlockConfig block, HfFormat format, List<String> problems) {
    if (format == HfFormat.MAMBA2) {
      fitMamba2(where, block, problems);
      return;
    }
    if (!HfExport.isMamba1(block)) {
      problems.add(where + ".kind: " + block.kind() + " — --format " + format.option() + " holds ssm mamba1 blocks"
          + " only" + (HfExport.isTransformer(block) ? " (transformer blocks: --format llama)" : ""));
      return;
    }
    CommonBlockKeys c = block.common();
    if (c.ffnHiddenSize() != 0) {
      problems.add(where + ".ffn_hidden_size: " + c.ffnHiddenSize() + " — Mamba blocks have no MLP (0)");
    }
    if (Boolean.TRUE.equals(c.addLinearBiases())) {
      problems.add(where + ".add_linear_biases: true — mamba has no linear biases");
    }
  }

  /** Mamba2Config derives d_inner as expand x hidden_size: an integer expand, and no MLP. */
  private static void fitMamba2(String where, BlockConfig block, List<String> problems) {
    if (!HfExport.isMamba2Standard(block)) {
      problems.add(where + ".kind: " + block.kind() + " — --format mamba2 holds ssm mamba2_standard blocks only"
          + (HfExport.isMamba1(block) ? " (ssm mamba1 blocks: --format mamba)"
              : HfExport.isTransformer(block) ? " (transformer blocks: --format llama)" : ""));
      return;
    }
    org.fastllm.dsl.config.SsmBlockConfig s = (org.fastllm.dsl.config.SsmBlockConfig) block;
    if (s.common().ffnHiddenSize() != 0) {
      problems.add(where + ".ffn_hidden_size: " + s.common().ffnHiddenSize() + " — Mamba 2 blocks have no MLP (0)");
    }
    if (s.dInner() % s.hiddenSize() != 0) {
      problems.add(where + ".d_inner: " + s.dInner() + " — mamba2 needs a multiple of hidden_size ("
          + s.hiddenSize() + "), its expand being an integer");
    }
  }

  /** The block without keys that only training reads (sharing, learning rate, dropout, flash attention). */
  private static BlockConfig withoutTraining(BlockConfig block) {
    CommonBlockKeys c = block.common();
    CommonBlockKeys plain = new CommonBlockKeys(null, c.hiddenSize(), c.normalization(), c.ffnHiddenSize(), c.gated(),
        c.activation(), null, null, null, c.addLinearBiases());
    if (block instanceof TransformerBlockConfig t) {
      return new TransformerBlockConfig(plain, t.attentionType(), t.numHeads(), t.headGroups(), t.headSize(),
          t.slidingWindow(), t.windowSize(), null, t.rotary(), t.causal(), t.qkvBiases());
    }
    return block;
  }
}
