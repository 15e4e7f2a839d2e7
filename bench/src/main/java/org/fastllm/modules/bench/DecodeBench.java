package org.fastllm.modules.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.TrainingConfig;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.modules.checkpoint.CheckpointException;
import org.fastllm.modules.checkpoint.InitialWeights;
import org.fastllm.modules.checkpoint.ModelFolderWriter;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;

/**
 * Benchmark, not a test: greedy decoding tokens/s of a model from a YAML config (random init) or a model folder, float32
 * or ({@code --dtype bfloat16}) bfloat16 weights and caches,
 * with the layers' decoding caches ({@link LanguageModel#startDecoding}), on a GPU also with its steps replayed from
 * a recorded CUDA graph ({@code java-graph}: {@link org.fastllm.modules.stack.DecodeGraph}, checked against the eager
 * steps' logits), optionally against recomputing the whole
 * sequence for every new token, and the bytes of the decoding state per block at several context lengths.
 *
 * <pre class="text">{@code
 * java ... DecodeBench --config bench/gpu/llama-120m.yaml --device cuda --batch 1,16 --prompt 512 --new 256
 * java ... DecodeBench --model RUN_OR_MODEL_DIR --device cpu --batch 1 --new 32 --recompute-new 16
 * }</pre>
 *
 * <p><b>tokens/s is new tokens x batch / decode time, the decode time being the whole generation's less the prefill
 * (the prompt's forward that gives the first new token);</b> bench/gpu/decode_reference.py prints transformers'
 * figures with the same definition and the same prompts ({@link #promptToken}). {@code --save DIR} first writes the
 * model as a model folder, which {@code fastllm-cli export --format llama} turns into transformers' weights.
 */
public final class DecodeBench {
  private DecodeBench() {}

  /** The command line. */
  record Options(String config, String model, String device, List<Integer> batch, int prompt, int newTokens,
      int recomputeNew, List<Integer> memoryAt, String save, long seed, int threads, String name, String dtype) {

    static Options parse(String[] args) {
      Map<String, String> given = new LinkedHashMap<>();
      for (int i = 0; i < args.length; i++) {
        if (!args[i].startsWith("--") || i + 1 == args.length) {
          throw new IllegalArgumentException("expected --name value pairs, got '" + args[i] + "'; names: --config"
              + " FILE.yaml or --model DIR, --device cpu|cuda, --batch 1,16, --prompt, --new, --recompute-new"
              + " (0: none), --memory-at 512,2048 (empty: none), --save DIR, --seed, --threads, --name,"
              + " --dtype float32|bfloat16");
        }
        given.put(args[i].substring(2), args[++i]);
      }
      if (given.containsKey("config") == given.containsKey("model")) {
        throw new IllegalArgumentException("give one of --config FILE.yaml (random init) and --model DIR");
      }
      String source = given.getOrDefault("config", given.get("model"));
      String name = Path.of(source).getFileName().toString().replaceFirst("\\.ya?ml$", "");
      return new Options(given.get("config"), given.get("model"), given.getOrDefault("device", "cpu"),
          ints(given.getOrDefault("batch", "1,16")), Integer.parseInt(given.getOrDefault("prompt", "512")),
          Integer.parseInt(given.getOrDefault("new", "256")),
          Integer.parseInt(given.getOrDefault("recompute-new", "0")), ints(given.getOrDefault("memory-at", "")),
          given.get("save"), Long.parseLong(given.getOrDefault("seed", "1")),
          Integer.parseInt(given.getOrDefault("threads", "0")), given.getOrDefault("name", name),
          dtype(given.getOrDefault("dtype", "float32")));
    }

    private static String dtype(String name) {
      if (!List.of("float32", "bfloat16").contains(name)) {
        throw new IllegalArgumentException("--dtype " + name + ": must be float32 or bfloat16");
      }
      return name;
    }

    private static List<Integer> ints(String list) {
      return list.isBlank() ? List.of()
          : Arrays.stream(list.split(",")).map(String::trim).map(Integer::valueOf).toList();
    }
  }

  public static void main(String[] args) throws IOException {
    // as fastllm-cli does (Main.nativeDefaults): JavaCPP's physical-memory check reads the resident size for every
    // native object made, a third of a small model's decoding step; set before any JavaCPP class loads
    if (System.getProperty("org.bytedeco.javacpp.maxPhysicalBytes") == null) {
      System.setProperty("org.bytedeco.javacpp.maxPhysicalBytes", "0");
    }
    try {
      run(Options.parse(args));
    } catch (IllegalArgumentException | InvalidConfigException | CheckpointException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    } catch (NoSuchFileException e) {
      System.err.println("error: " + e.getFile() + ": no such file");
      System.exit(2);
    }
  }

  private static void run(Options o) throws IOException {
    if (o.threads() > 0) {
      torch.set_num_threads(o.threads());
    }
    Device device = new Device(o.device());
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      LoadedConfig config = loadConfig(o);
      LanguageModel model = build(o, config);
      if (!device.is_cpu()) {
        model.to(device, false);
      }
      if (o.dtype().equals("bfloat16")) {
        model.to(torch.ScalarType.BFloat16, false);   // weights and so the caches; the logits are read as float32
      }
      model.eval();
      System.out.printf(Locale.ROOT, "# java %s: %,d parameters, %d layers, device %s, %s, %d CPU threads,"
          + " decodes incrementally: %s; JavaCPP maxPhysicalBytes %d%n", o.name(), model.parameterCount(),
          model.numLayers(), o.device(), o.dtype(), torch.get_num_threads(), model.decodesIncrementally(),
          org.bytedeco.javacpp.Pointer.maxPhysicalBytes());
      long vocab = config.model().vocabSize();
      if (!o.memoryAt().isEmpty()) {
        new DecodeStateMemory(model, config.plan(), device).print(o.name(), o.memoryAt(), vocab);
      }
      for (int batch : o.batch()) {
        DecodeRun run = new DecodeRun(model, device, prompt(batch, o.prompt(), vocab));
        run.cached(Math.min(4, o.newTokens()));  // warm-up: kernels compiled, allocator and libraries ready
        DecodeRun.Timing t = run.cached(o.newTokens());
        String side = o.dtype().equals("bfloat16") ? "java-bf16" : "java";
        print(o, side, batch, o.newTokens(), t);
        if (!device.is_cpu()) {   // the same steps replayed from one recorded CUDA graph (DecodeGraph)
          run.cached(Math.min(4, o.newTokens()), true);
          DecodeRun.Timing g = run.cached(o.newTokens(), true);
          print(o, side + "-graph", batch, o.newTokens(), g);
          int checked = Math.min(32, o.newTokens());
          System.out.printf(Locale.ROOT, "# %s batch %d: steps through a CUDA graph: %s; largest logit difference"
              + " to eager steps over %d steps: %.3g%n", o.name(), batch, g.graph(), checked,
              run.graphDifference(checked));
        }
        if (o.recomputeNew() > 0) {
          run.recomputed(Math.min(2, o.recomputeNew()));
          DecodeRun.Timing r = run.recomputed(o.recomputeNew());
          print(o, "java-recompute", batch, o.recomputeNew(), r);
          System.out.printf(Locale.ROOT, "# %s batch %d: cached decoding %.1fx the tokens/s of recomputing (whole"
              + " generations, prefill included; %d vs %d new tokens)%n", o.name(), batch,
              t.totalTokensPerSecond(batch, o.newTokens()) / r.totalTokensPerSecond(batch, o.recomputeNew()),
              o.newTokens(), o.recomputeNew());
        }
      }
    }
  }

  private static void print(Options o, String side, int batch, int newTokens, DecodeRun.Timing t) {
    System.out.printf(Locale.ROOT, "decode %-15s %-6s %-12s batch %2d prompt %4d new %3d: prefill %9.1f ms,"
        + " decode %9.1f tok/s, whole generation %9.1f tok/s, host %6.3f CPU ms/step; first tokens %s%n", side,
        o.device(), o.name(), batch, o.prompt(), newTokens, t.prefillMs(), t.decodeTokensPerSecond(batch, newTokens),
        t.totalTokensPerSecond(batch, newTokens), t.cpuMsPerStep(newTokens), t.firstTokens());
  }

  private static LoadedConfig loadConfig(Options o) throws IOException {
    if (o.model() != null) {
      InitialWeights weights = InitialWeights.read(Path.of(o.model()));
      return ConfigLoader.standard().load(weights.folder().resolve("config.yaml").toString(), weights.configYaml());
    }
    return ConfigLoader.standard().load(o.config(), Files.readString(Path.of(o.config()), StandardCharsets.UTF_8));
  }

  /** The model: random init from {@code --seed}, or the folder's weights; written to {@code --save} if given. */
  private static LanguageModel build(Options o, LoadedConfig config) throws IOException {
    if (o.model() != null) {
      return LogitsDump.load(Path.of(o.model()));
    }
    torch.manual_seed(o.seed());
    // training.kernels, where the file gives a training section, chooses the kernels as it does for train
    TrainingConfig training = config.resolved().training();
    LanguageModel model = training == null ? StackBuilder.installed().build(config.model().withDefaults())
        : StackBuilder.installed().build(config.model().withDefaults(), training.kernels());
    if (o.save() != null) {
      ModelFolderWriter.write(Path.of(o.save()), Files.readString(Path.of(o.config()), StandardCharsets.UTF_8),
          model);
      System.out.println("# " + o.save() + ": the random-init model as a model folder");
    }
    return model;
  }

  /** Prompt token {@code i} of sequence {@code b}: a fixed pseudo-random id, computed the same way in Python. */
  static long promptToken(long b, long i, long vocab) {
    return (b * 1_000_003L + i * 7_919L + 12_345L) * 48_271L % 2_147_483_647L % vocab;
  }

  static long[][] prompt(int batch, int length, long vocab) {
    long[][] ids = new long[batch][length];
    for (int b = 0; b < batch; b++) {
      for (int i = 0; i < length; i++) {
        ids[b][i] = promptToken(b, i, vocab);
      }
    }
    return ids;
  }
}
