package org.fastllm.cli.interop;

import java.util.ArrayList;
import java.util.List;

/**
 * One tensor of this tool and the Hugging Face tensors it is made of, stacked by rows in this order: the fused
 * {@code key_value} is {@code [k_proj; v_proj]}, the gated {@code layer_1} is {@code [gate_proj; up_proj]}; every part
 * has the same number of rows.
 *
 * <pre>{@code
 * TensorRule.forModel(HfFormat.LLAMA, 2, false, false)  // key_value <- k_proj, v_proj; layer_1 <- gate_proj, up_proj
 * }</pre>
 */
record TensorRule(String ours, List<String> theirs) {
  TensorRule {
    theirs = List.copyOf(theirs);
  }

  static TensorRule of(String ours, String... theirs) {
    return new TensorRule(ours, List.of(theirs));
  }

  /**
   * The rules of a whole model of {@code layers} layers, Hugging Face names without the backbone prefix
   * ({@code model.} or {@code backbone.}); the head {@code lm_head.weight} has none in any format.
   */
  static List<TensorRule> forModel(HfFormat format, int layers, boolean tied, boolean qkvBiases) {
    List<TensorRule> rules = new ArrayList<>();
    rules.add(of("embeddings.word.weight", format.ssm ? "embeddings.weight" : "embed_tokens.weight"));
    for (int i = 0; i < layers; i++) {
      String ours = "layers." + i + ".";
      String theirs = "layers." + i + ".";
      rules.addAll(format.ssm ? ssmLayer(format, ours, theirs) : transformerLayer(ours, theirs, qkvBiases));
    }
    rules.add(of("final_norm.weight", format.ssm ? "norm_f.weight" : "norm.weight"));
    if (!tied) {
      rules.add(of("output.weight", "lm_head.weight"));
    }
    return List.copyOf(rules);
  }

  /** Whether the rule applies to a model whose layout has {@code names}: an SSM's optional biases may be absent. */
  boolean inLayout(HfFormat format, java.util.Set<String> names) {
    return !format.ssm || names.contains(ours);
  }

  private static List<TensorRule> transformerLayer(String ours, String theirs, boolean qkvBiases) {
    List<TensorRule> rules = new ArrayList<>();
    rules.add(of(ours + "norm_1.weight", theirs + "input_layernorm.weight"));
    rules.add(of(ours + "mixer.query.weight", theirs + "self_attn.q_proj.weight"));
    if (qkvBiases) {
      rules.add(of(ours + "mixer.query.bias", theirs + "self_attn.q_proj.bias"));
    }
    rules.add(of(ours + "mixer.key_value.weight", theirs + "self_attn.k_proj.weight", theirs + "self_attn.v_proj.weight"));
    if (qkvBiases) {
      rules.add(of(ours + "mixer.key_value.bias", theirs + "self_attn.k_proj.bias", theirs + "self_attn.v_proj.bias"));
    }
    rules.add(of(ours + "mixer.dense.weight", theirs + "self_attn.o_proj.weight"));
    rules.add(of(ours + "norm_2.weight", theirs + "post_attention_layernorm.weight"));
    rules.add(of(ours + "mlp.layer_1.weight", theirs + "mlp.gate_proj.weight", theirs + "mlp.up_proj.weight"));
    rules.add(of(ours + "mlp.layer_2.weight", theirs + "mlp.down_proj.weight"));
    return rules;
  }

  /**
   * The mixer's tensors keep Hugging Face's own names; the block's one norm is {@code norm_1}. The optional biases
   * (the convolution's; Mamba 2's linear ones) are listed too: a rule for a tensor the block's layout lacks is skipped
   * ({@link #inLayout}).
   */
  private static List<TensorRule> ssmLayer(HfFormat format, String ours, String theirs) {
    List<String> mixer = format == HfFormat.MAMBA
        ? List.of("in_proj.weight", "conv1d.weight", "conv1d.bias", "x_proj.weight", "dt_proj.weight", "dt_proj.bias", "A_log", "D",
            "out_proj.weight")
        : List.of("in_proj.weight", "in_proj.bias", "conv1d.weight", "conv1d.bias", "dt_bias", "A_log", "D",
            "norm.weight", "out_proj.weight", "out_proj.bias");
    List<TensorRule> rules = new ArrayList<>();
    rules.add(of(ours + "norm_1.weight", theirs + "norm.weight"));
    mixer.forEach(name -> rules.add(of(ours + "mixer." + name, theirs + "mixer." + name)));
    return rules;
  }
}
