package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.cli.Main;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;
import org.fastllm.validation.load.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * For generated Llama, Mistral, Qwen2, Mamba and Mamba 2 shapes: import, export, import again gives the same
 * config and bit-identical weights, and the exported tensors are the Hugging Face ones that went in.
 */
class HfRoundTripPropertyTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;

  /** A Hugging Face folder's config and tensors, drawn small. */
  record HfModel(String format, ObjectNode config, Map<String, long[]> shapes) {}

  static Arbitrary<HfModel> models() {
    return draw -> {
      String format = draw.pick(java.util.List.of("llama", "mistral", "qwen2", "mamba", "mamba2"));
      int hidden = 8 * draw.between(1, 3);
      int layers = draw.between(1, 3);
      int vocab = 256 + draw.between(0, 40);
      boolean tied = draw.bool();
      ObjectNode c = JSON.createObjectNode();
      c.put("model_type", format);
      c.put("vocab_size", vocab);
      c.put("hidden_size", hidden);
      c.put("num_hidden_layers", layers);
      c.put("tie_word_embeddings", tied);
      Map<String, long[]> s = new LinkedHashMap<>();
      String p = format.startsWith("mamba") ? "backbone." : "model.";
      if (format.equals("mamba2")) {
        mamba2(draw, c, s, hidden, layers);
      } else if (format.equals("mamba")) {
        int inner = hidden * draw.between(1, 2);
        int state = draw.pick(java.util.List.of(1, 2, 4, 8)); // this tool asks d_inner to be a multiple of it
        int kernel = draw.between(2, 4);
        c.put("intermediate_size", inner);
        c.put("expand", inner / hidden);
        c.put("state_size", state);
        c.put("conv_kernel", kernel);
        boolean convBias = draw.bool();
        c.put("use_conv_bias", convBias);
        int rank = (hidden + 15) / 16;
        s.put(p + "embeddings.weight", new long[] {vocab, hidden});
        for (int i = 0; i < layers; i++) {
          String l = p + "layers." + i + ".";
          s.put(l + "norm.weight", new long[] {hidden});
          s.put(l + "mixer.in_proj.weight", new long[] {2L * inner, hidden});
          s.put(l + "mixer.conv1d.weight", new long[] {inner, 1, kernel});
          if (convBias) {
            s.put(l + "mixer.conv1d.bias", new long[] {inner});
          }
          s.put(l + "mixer.x_proj.weight", new long[] {rank + 2L * state, inner});
          s.put(l + "mixer.dt_proj.weight", new long[] {inner, rank});
          s.put(l + "mixer.dt_proj.bias", new long[] {inner});
          s.put(l + "mixer.A_log", new long[] {inner, state});
          s.put(l + "mixer.D", new long[] {inner});
          s.put(l + "mixer.out_proj.weight", new long[] {hidden, inner});
        }
        s.put(p + "norm_f.weight", new long[] {hidden});
      } else {
        int heads = draw.pick(java.util.List.of(1, 2, 4));
        int groups = draw.pick(java.util.List.of(1, heads));
        int head = hidden / heads;
        int ffn = 4 * draw.between(1, 6);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", groups);
        c.put("intermediate_size", ffn);
        c.put("rms_norm_eps", draw.pick(java.util.List.of(1e-5, 1e-6)));
        if (draw.bool()) {
          c.put("rope_theta", 1000.0 * draw.between(1, 500));
        } else {
          c.putObject("rope_parameters").put("rope_type", "default").put("rope_theta", 10000.0);
        }
        if (format.equals("qwen2") && draw.bool()) {
          c.put("use_sliding_window", false);
          c.put("max_window_layers", layers);
          var types = c.putArray("layer_types");
          java.util.stream.IntStream.range(0, layers).forEach(i -> types.add("full_attention"));
        }
        if (format.equals("mistral")) {
          if (draw.bool()) {
            c.put("sliding_window", draw.between(1, 64));
          } else {
            c.putNull("sliding_window");
          }
        }
        s.put(p + "embed_tokens.weight", new long[] {vocab, hidden});
        for (int i = 0; i < layers; i++) {
          String l = p + "layers." + i + ".";
          s.put(l + "input_layernorm.weight", new long[] {hidden});
          s.put(l + "self_attn.q_proj.weight", new long[] {(long) heads * head, hidden});
          s.put(l + "self_attn.k_proj.weight", new long[] {(long) groups * head, hidden});
          s.put(l + "self_attn.v_proj.weight", new long[] {(long) groups * head, hidden});
          if (format.equals("qwen2")) {
            s.put(l + "self_attn.q_proj.bias", new long[] {(long) heads * head});
            s.put(l + "self_attn.k_proj.bias", new long[] {(long) groups * head});
            s.put(l + "self_attn.v_proj.bias", new long[] {(long) groups * head});
          }
          s.put(l + "self_attn.o_proj.weight", new long[] {hidden, (long) heads * head});
          s.put(l + "post_attention_layernorm.weight", new long[] {hidden});
          s.put(l + "mlp.gate_proj.weight", new long[] {ffn, hidden});
          s.put(l + "mlp.up_proj.weight", new long[] {ffn, hidden});
          s.put(l + "mlp.down_proj.weight", new long[] {hidden, ffn});
        }
        s.put(p + "norm.weight", new long[] {hidden});
      }
      if (!tied) {
        s.put("lm_head.weight", new long[] {vocab, hidden});
      }
      return new HfModel(format, c, s);
    };
  }

  /** Mamba2Config keys and transformers' Mamba2 tensors: heads of 2 to 8 channels in 1 or 2 groups, biases or not. */
  private static void mamba2(Draw draw, ObjectNode c, Map<String, long[]> s, int hidden, int layers) {
    int expand = draw.between(1, 2);
    int inner = hidden * expand;
    int headDim = draw.pick(java.util.List.of(2, 4, 8));
    int heads = inner / headDim;
    int groups = heads % 2 == 0 ? draw.pick(java.util.List.of(1, 2)) : 1;
    int state = draw.pick(java.util.List.of(1, 2, 4, 8));
    int kernel = draw.between(2, 4);
    boolean bias = draw.bool();
    boolean convBias = draw.bool();
    c.put("expand", expand);
    c.put("num_heads", heads);
    c.put("head_dim", headDim);
    c.put("n_groups", groups);
    c.put("state_size", state);
    c.put("conv_kernel", kernel);
    c.put("chunk_size", draw.pick(java.util.List.of(4, 256)));
    c.put("use_bias", bias);
    c.put("use_conv_bias", convBias);
    c.put("layer_norm_epsilon", draw.pick(java.util.List.of(1e-5, 1e-6)));
    long conv = inner + 2L * groups * state;
    s.put("backbone.embeddings.weight", new long[] {c.get("vocab_size").asInt(), hidden});
    for (int i = 0; i < layers; i++) {
      String l = "backbone.layers." + i + ".";
      s.put(l + "norm.weight", new long[] {hidden});
      s.put(l + "mixer.in_proj.weight", new long[] {inner + conv + heads, hidden});
      s.put(l + "mixer.conv1d.weight", new long[] {conv, 1, kernel});
      if (convBias) {
        s.put(l + "mixer.conv1d.bias", new long[] {conv});
      }
      if (bias) {
        s.put(l + "mixer.in_proj.bias", new long[] {inner + conv + heads});
        s.put(l + "mixer.out_proj.bias", new long[] {hidden});
      }
      for (String perHead : java.util.List.of("dt_bias", "A_log", "D")) {
        s.put(l + "mixer." + perHead, new long[] {heads});
      }
      s.put(l + "mixer.norm.weight", new long[] {inner});
      s.put(l + "mixer.out_proj.weight", new long[] {hidden, inner});
    }
    s.put("backbone.norm_f.weight", new long[] {hidden});
  }

  private static int cli(String... args) {
    StringWriter err = new StringWriter();
    int exit = Main.run(args, new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    assertThat(exit).as(String.join(" ", args) + ": " + err).isZero();
    return exit;
  }

  @Test
  void exportThenImport_givesTheSameConfigAndBitIdenticalWeights() {
    int[] run = {0};
    Properties.check("hf round trip", 30, models().describedAs(m -> m.config().toString()), model -> {
      try {
        Path base = dir.resolve("case-" + run[0]++);
        Path hf = base.resolve("hf");
        Files.createDirectories(hf);
        Files.writeString(hf.resolve("config.json"), JSON.writeValueAsString(model.config()));
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        model.shapes().forEach((name, shape) -> tensors.put(name, torch.randn(shape)));
        Safetensors.write(hf.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        cli("import", hf.toString(), "-o", base.resolve("a").toString());
        cli("export", base.resolve("a").toString(), "--format", model.format(), "-o", base.resolve("hf2").toString());
        cli("import", base.resolve("hf2").toString(), "-o", base.resolve("b").toString());
        assertThat(ConfigLoader.standard().load(base.resolve("b/config.yaml")).model())
            .isEqualTo(ConfigLoader.standard().load(base.resolve("a/config.yaml")).model());
        assertSame(Safetensors.read(base.resolve("a/model.safetensors")).tensors(),
            Safetensors.read(base.resolve("b/model.safetensors")).tensors());
        assertSame(tensors, ShardedSafetensors.read(base.resolve("hf2")).tensors());
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  private static void assertSame(Map<String, Tensor> a, Map<String, Tensor> b) {
    assertThat(b.keySet()).containsExactlyInAnyOrderElementsOf(a.keySet());
    a.forEach((name, t) -> assertThat(torch.equal(t, b.get(name))).as(name).isTrue());
  }
}
