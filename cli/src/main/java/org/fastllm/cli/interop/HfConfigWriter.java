package org.fastllm.cli.interop;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.fastllm.dsl.config.BlockConfig;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;

/**
 * The {@code config.json} of an exported model, readable by transformers 4.x ({@code rope_theta}) and 5.x
 * ({@code rope_parameters}); every key the class reads is written, so no class default applies.
 */
final class HfConfigWriter {
  private static final ObjectMapper JSON = new ObjectMapper();

  private HfConfigWriter() {}

  static ObjectNode write(HfFormat format, ModelConfig model, BlockConfig block) {
    ObjectNode json = JSON.createObjectNode();
    json.putArray("architectures").add(format.architecture);
    json.put("model_type", format.modelType);
    json.put("torch_dtype", "float32");
    json.put("vocab_size", model.vocabSize());
    json.put("hidden_size", model.hiddenSize());
    json.put("num_hidden_layers", model.numLayers());
    json.put("tie_word_embeddings", Boolean.TRUE.equals(model.tiedEmbeddingWeight()));
    if (block instanceof TransformerBlockConfig t) {
      json.put("intermediate_size", t.common().ffnHiddenSize());
      json.put("num_attention_heads", t.numHeads());
      json.put("num_key_value_heads", t.headGroups());
      json.put("head_dim", t.headSize());
      json.put("hidden_act", "silu");
      json.put("max_position_embeddings", model.maxSequenceLength());
      json.put("rms_norm_eps", model.normalization().epsilon());
      json.put("rope_theta", t.rotary().theta());
      json.putNull("rope_scaling");
      ObjectNode rope = json.putObject("rope_parameters");
      rope.put("rope_type", "default");
      rope.put("rope_theta", t.rotary().theta());
      if (format == HfFormat.LLAMA) {
        json.put("attention_bias", false);
        json.put("mlp_bias", false);
      }
      if (format == HfFormat.QWEN2) {
        json.put("use_sliding_window", false);
        json.putNull("sliding_window");
        json.put("max_window_layers", model.numLayers());
        json.put("attention_dropout", 0.0);
        json.putArray("layer_types").addAll(java.util.Collections.nCopies(model.numLayers(),
            JSON.getNodeFactory().textNode("full_attention")));
      }
      if (format == HfFormat.MISTRAL) {
        if (Boolean.TRUE.equals(t.slidingWindow())) {
          json.put("sliding_window", t.windowSize());
        } else {
          json.putNull("sliding_window");
        }
      }
    } else if (block instanceof SsmBlockConfig s && s.variant() == org.fastllm.dsl.config.SsmVariant.MAMBA2_STANDARD) {
      // time_step_limit stays at the class default (0, inf): JSON has no infinity.
      json.put("state_size", s.stateSize());
      json.put("expand", s.dInner() / model.hiddenSize());
      json.put("num_heads", s.numHeads());
      json.put("head_dim", s.headSize());
      json.put("n_groups", s.nGroups());
      json.put("conv_kernel", s.convKernelSize());
      json.put("chunk_size", s.chunkSize());
      json.put("layer_norm_epsilon", model.normalization().epsilon());
      json.put("use_bias", s.addLinearBiases());
      json.put("use_conv_bias", s.convBias());
      json.put("rms_norm", true);
      json.put("hidden_act", "silu");
    } else if (block instanceof SsmBlockConfig s) {
      int hidden = model.hiddenSize();
      json.put("state_size", s.stateSize());
      json.put("intermediate_size", s.dInner());
      json.put("expand", s.dInner() / hidden);
      json.put("conv_kernel", s.convKernelSize());
      json.put("time_step_rank", s.dtRank().resolve(hidden));
      json.put("layer_norm_epsilon", model.normalization().epsilon());
      json.put("use_bias", false);
      json.put("use_conv_bias", s.convBias());
      json.put("hidden_act", "silu");
    }
    return json;
  }
}
