package org.fastllm.modules.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.modules.checkpoint.Safetensors;
import org.fastllm.modules.checkpoint.ShardedSafetensors;

/**
 * Benchmark, not a test: writes a random checkpoint of Llama-2-7B shapes (bf16, about 13.5 GB at 32 layers) as a
 * sharded Hugging Face folder through {@link ShardedSafetensors}, reads it back, and prints write and read GB/s and
 * the peak RSS ({@code VmHWM}, reset before each phase) of each, one JSON line; bench/gpu/safetensors_reference.py does the same with
 * Python's {@code safetensors}.
 *
 * <pre class="text">{@code
 * bench/safetensors.sh [--layers 32] [--dir /tmp] [--shard-bytes 5000000000]
 * bench/safetensors.sh --big      # manual check: a 131072 x 8192 float32 tensor (4 GiB) written and read bit-exactly
 * }</pre>
 *
 * <p>The generated tensors are released before the read, so a reader that does not double host memory peaks near
 * one checkpoint's size plus the JVM. Writes are forced to disk (as checkpoints are); the read then comes from the
 * page cache where memory allows, on both sides alike.
 */
public final class SafetensorsBench {
  private static final long VOCAB = 32000;
  private static final long HIDDEN = 4096;
  private static final long FFN = 11008;

  private SafetensorsBench() {}

  public static void main(String[] args) throws IOException {
    // As the command does: JavaCPP's physical-memory check (4 x -Xmx by default) would refuse a checkpoint's worth of
    // native tensors; it must be set before any JavaCPP class loads.
    if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
      System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
    }
    int layers = 32;
    Path parent = Path.of(System.getProperty("java.io.tmpdir"));
    long shardBytes = 5_000_000_000L;
    boolean big = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--layers" -> layers = Integer.parseInt(args[++i]);
        case "--dir" -> parent = Path.of(args[++i]);
        case "--shard-bytes" -> shardBytes = Long.parseLong(args[++i]);
        case "--big" -> big = true;
        default -> throw new IllegalArgumentException("unknown option " + args[i]
            + " (allowed: --layers N, --dir DIR, --shard-bytes N, --big)");
      }
    }
    torch.set_num_threads(Math.max(1, Runtime.getRuntime().availableProcessors()));
    torch.manual_seed(1);
    Path folder = Files.createTempDirectory(parent, "safetensors-bench");
    try {
      if (big) {
        bigTensor(folder);
      } else {
        roundTrip(folder, layers, shardBytes);
      }
    } finally {
      try (Stream<Path> files = Files.list(folder)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(folder);
    }
  }

  private static void roundTrip(Path folder, int layers, long shardBytes) throws IOException {
    double written;
    long bytes = 0;
    int shards;
    long rssBefore;
    try (PointerScope scope = new PointerScope()) {
      Map<String, Tensor> tensors = llamaShaped(layers);
      for (Tensor t : tensors.values()) {
        bytes += t.nbytes();
      }
      rssBefore = status("VmRSS");
      resetPeak();
      long start = System.nanoTime();
      List<Path> files = ShardedSafetensors.write(folder, tensors, Map.of("format", "pt"), shardBytes);
      written = seconds(start);
      shards = files.size() > 1 ? files.size() - 1 : 1;
      tensors.values().forEach(Tensor::close);
    }
    long peakAfterWrite = status("VmHWM");
    double read;
    resetPeak();
    try (PointerScope scope = new PointerScope()) {
      long start = System.nanoTime();
      Safetensors.Contents back = ShardedSafetensors.read(folder);
      read = seconds(start);
      if (back.tensors().size() != 9 * layers + 3) {
        throw new IllegalStateException(back.tensors().size() + " tensors read back");
      }
    }
    long peakAfterRead = status("VmHWM");
    System.out.printf("{\"side\": \"java\", \"layers\": %d, \"gb\": %.3f, \"shards\": %d, \"write_gb_s\": %.3f, "
        + "\"read_gb_s\": %.3f, \"rss_before_write_gb\": %.3f, \"peak_rss_write_gb\": %.3f, "
        + "\"peak_rss_read_gb\": %.3f}%n", layers, bytes / 1e9, shards, bytes / 1e9 / written,
        bytes / 1e9 / read, rssBefore / 1e9, peakAfterWrite / 1e9, peakAfterRead / 1e9);
  }

  /** Hugging Face's LlamaForCausalLM names and shapes, random bf16 values. */
  static Map<String, Tensor> llamaShaped(int layers) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    tensors.put("model.embed_tokens.weight", random(VOCAB, HIDDEN));
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      for (String name : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
        tensors.put(p + "self_attn." + name + ".weight", random(HIDDEN, HIDDEN));
      }
      tensors.put(p + "mlp.gate_proj.weight", random(FFN, HIDDEN));
      tensors.put(p + "mlp.up_proj.weight", random(FFN, HIDDEN));
      tensors.put(p + "mlp.down_proj.weight", random(HIDDEN, FFN));
      tensors.put(p + "input_layernorm.weight", random(HIDDEN));
      tensors.put(p + "post_attention_layernorm.weight", random(HIDDEN));
    }
    tensors.put("model.norm.weight", random(HIDDEN));
    tensors.put("lm_head.weight", random(VOCAB, HIDDEN));
    return tensors;
  }

  /** A tensor owned by no scope (the float intermediate is freed at once); the caller closes it. */
  private static Tensor random(long... shape) {
    try (PointerScope scope = new PointerScope()) {
      Tensor t = torch.randn(shape, new TensorOptions(torch.ScalarType.BFloat16));
      t.retainReference();
      return t;
    }
  }

  /** Above 2 GiB, the size a Java array or buffer cannot hold: written, read, compared bit for bit. */
  private static void bigTensor(Path folder) throws IOException {
    Path file = folder.resolve("big.safetensors");
    try (PointerScope scope = new PointerScope()) {
      Tensor big = torch.randn(131072, 8192);
      long start = System.nanoTime();
      Safetensors.write(file, Map.of("embed", big), Map.of());
      double written = seconds(start);
      start = System.nanoTime();
      Tensor back = Safetensors.read(file).tensors().get("embed");
      double read = seconds(start);
      boolean equal = torch.equal(big.view(torch.ScalarType.Int), back.view(torch.ScalarType.Int));
      System.out.printf("{\"check\": \"131072 x 8192 float32\", \"gib\": %.2f, \"bit_equal\": %b, "
          + "\"write_s\": %.2f, \"read_s\": %.2f, \"peak_rss_gb\": %.3f}%n", big.nbytes() / (double) (1L << 30),
          equal, written, read, status("VmHWM") / 1e9);
      if (!equal) {
        throw new IllegalStateException("the 4 GiB tensor read back differs from the one written");
      }
    }
  }

  /** Sets VmHWM back to the current RSS (Linux 4.0 on), so that each phase reports its own peak. */
  private static void resetPeak() throws IOException {
    Files.writeString(Path.of("/proc/self/clear_refs"), "5");
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** A size line of /proc/self/status, in bytes. */
  private static long status(String key) throws IOException {
    List<String> lines = new ArrayList<>(Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.UTF_8));
    for (String line : lines) {
      if (line.startsWith(key + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("/proc/self/status has no " + key);
  }
}
