package org.fastllm.modules.experiment;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The switches kept for A/B comparisons of implementation details, which no user chooses per run (those are config
 * keys, such as {@code training.kernels}): system properties {@code -Dfastllm.<name>=true|false}, read once.
 *
 * <pre>{@code java -Dfastllm.sumLink=false -jar fastllm-cli.jar train   # link kernels to autograd by one element}</pre>
 *
 * <p><b>A property under {@code fastllm.} that is not a flag, or a value that is not true or false, is reported
 * once on standard error and ignored.</b>
 */
public final class ExperimentFlags {
  private static final String PREFIX = "fastllm.";
  private static final Map<String, String> KNOWN = new TreeMap<>(Map.of(
      "gateKernel", "the Mamba mixers' D skip and silu(z) gate runs as one kernel each way where the scan's do"
          + " (false: tensor operations)",
      "sumLink", "hand-written kernels join autograd through each input's sum (true) or its first element (false)",
      "flatGradients", "gradients live in one flat buffer per parameter group, as in data-parallel runs",
      "cudnnDecodeAttention", "decode steps may use cuDNN's attention kernel, which plans each new key length",
      "decodeGraph", "decoding on a GPU replays one recorded CUDA graph per step (false: each step launches eagerly)",
      "trainGraph", "training on a GPU replays one recorded CUDA graph per micro-batch (false: each launches eagerly)",
      "graphKeepsGradients", "a recorded training step adds into autograd's gradients, zeroed in place, not flat"
          + " buffers, so that the bf16 weight copies stay on (unset: when the linear weights are large)"));
  private static volatile ExperimentFlags current;

  private final boolean sumLink;
  private final boolean flatGradients;
  private final boolean cudnnDecodeAttention;
  private final boolean decodeGraph;
  private final boolean trainGraph;
  private final Boolean graphKeepsGradients;   // null: the run decides
  private final boolean gateKernel;
  private final List<String> warnings;

  private ExperimentFlags(boolean sumLink, boolean flatGradients, boolean cudnnDecodeAttention, boolean decodeGraph,
      boolean trainGraph, Boolean graphKeepsGradients, boolean gateKernel, List<String> warnings) {
    this.sumLink = sumLink;
    this.flatGradients = flatGradients;
    this.cudnnDecodeAttention = cudnnDecodeAttention;
    this.decodeGraph = decodeGraph;
    this.trainGraph = trainGraph;
    this.graphKeepsGradients = graphKeepsGradients;
    this.gateKernel = gateKernel;
    this.warnings = List.copyOf(warnings);
  }

  /** The flags of this process's system properties, read at the first call; warnings go to standard error then. */
  public static ExperimentFlags current() {
    ExperimentFlags flags = current;
    if (flags == null) {
      synchronized (ExperimentFlags.class) {
        if (current == null) {
          current = from(System.getProperties());
          current.report(System.err);
        }
        flags = current;
      }
    }
    return flags;
  }

  /** The flags of {@code properties}, with a warning for each property under {@code fastllm.} not understood. */
  public static ExperimentFlags from(Properties properties) {
    List<String> warnings = new ArrayList<>();
    Map<String, Boolean> values = new TreeMap<>();
    for (String key : new TreeMap<>(properties).keySet().stream().map(Object::toString).toList()) {
      if (!key.startsWith(PREFIX)) {
        continue;
      }
      String name = key.substring(PREFIX.length());
      String value = properties.getProperty(key);
      if (!KNOWN.containsKey(name)) {
        warnings.add("-D" + key + " is not a fastllm flag and is ignored (flags: " + String.join(", ", KNOWN.keySet())
            + "; kernel choices are the config section training.kernels)");
      } else if (!value.equals("true") && !value.equals("false")) {
        warnings.add("-D" + key + "=" + value + " is ignored: the value must be true or false");
      } else {
        values.put(name, Boolean.parseBoolean(value));
      }
    }
    return new ExperimentFlags(values.getOrDefault("sumLink", true), values.getOrDefault("flatGradients", false),
        values.getOrDefault("cudnnDecodeAttention", false), values.getOrDefault("decodeGraph", true),
        values.getOrDefault("trainGraph", true), values.get("graphKeepsGradients"),
        values.getOrDefault("gateKernel", true), warnings);
  }

  /** Kernel outputs join autograd through each input's sum (default) rather than its first element. */
  public boolean sumLink() {
    return sumLink;
  }

  /** Gradients in one flat buffer per group even in a single-process run (default false). */
  public boolean flatGradients() {
    return flatGradients;
  }

  /** Decode steps leave torch free to pick cuDNN's attention kernel (default false: its backend is off for them). */
  public boolean cudnnDecodeAttention() {
    return cudnnDecodeAttention;
  }

  /** One-position decode steps on a GPU replay a recorded CUDA graph (default true). */
  public boolean decodeGraph() {
    return decodeGraph;
  }

  /** A training micro-batch's forward and backward on a GPU replay a recorded CUDA graph (default true). */
  public boolean trainGraph() {
    return trainGraph;
  }

  /**
   * Whether a recorded training step adds into autograd's own gradients, zeroed in place, instead of flat buffers,
   * which keeps the bf16 weight copies on; empty when the property is not set and the run decides (by the size of
   * its linear weights).
   */
  public Optional<Boolean> graphKeepsGradients() {
    return Optional.ofNullable(graphKeepsGradients);
  }

  /** The Mamba mixers' skip and gate through their kernel where the scan's kernels run (default true). */
  public boolean gateKernel() {
    return gateKernel;
  }

  /** What was not understood, one sentence each. */
  public List<String> warnings() {
    return warnings;
  }

  private void report(PrintStream err) {
    warnings.forEach(w -> err.println("warning: " + w));
  }

  /** The flags and what each does, for {@code --help} texts. */
  public static String describe() {
    StringBuilder out = new StringBuilder();
    KNOWN.forEach((name, what) -> out.append(String.format(Locale.ROOT, "  -D%s%s=true|false  %s%n", PREFIX, name,
        what)));
    return out.toString();
  }
}
