package org.fastllm.modules.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.CommonBlockKeys;
import org.fastllm.dsl.config.LrSchedule;
import org.fastllm.dsl.config.ModelConfig;
import org.fastllm.dsl.config.ResolvedModel;
import org.fastllm.dsl.config.OptimizerConfig;
import org.fastllm.dsl.config.TransformerBlockConfig;
import org.fastllm.modules.stack.LanguageModel;
import org.fastllm.modules.stack.StackBuilder;
import org.fastllm.modules.optim.AdamW;

/**
 * Benchmark, not a test, meant for a JVM of its own: the host's time per training step (forward, backward, clipping,
 * AdamW) of a stack shaped like the GPT-2-small case (12 transformer layers of 12 heads, rotary, biases) with tiny
 * sizes, so the step is almost all host work: the Java calls, libtorch's dispatch and autograd bookkeeping. On a GPU
 * the host runs ahead of the device only while this stays below the device's time per step.
 *
 * <pre class="text">{@code
 * bench/host-overhead.sh   # alternates JVMs with JavaCPP's memory check on and off, prints the ratio
 * }</pre>
 *
 * <p>Prints the mean milliseconds per step over steps 101 to 400 and JavaCPP's {@code maxPhysicalBytes} setting.
 */
public final class HostOverheadBench {
  private HostOverheadBench() {}

  public static void main(String[] args) {
    torch.set_num_threads(1);
    torch.manual_seed(1);
    int hidden = 48;
    TransformerBlockConfig block = new TransformerBlockConfig(new CommonBlockKeys(null, null, null, 4 * hidden, null,
        null, null, null, null, true), null, 12, null, null, null, null, true, null, null, null);
    ResolvedModel config = new ModelConfig(hidden, 512, false, null, Map.of("gpt", block), List.of("gpt"), 12, 16,
        false).withDefaults();
    LanguageModel model = StackBuilder.installed().build(config);
    AdamW optimizer = AdamW.builder(new OptimizerConfig(1e-3, 1e-3, 0, LrSchedule.CONSTANT, 0.1, 0.9, 0.95, 1e-8, 1.0))
        .build(model.uniqueParameters());
    Tensor tokens = torch.randint(512, new long[] {1, 17}, new TensorOptions(torch.ScalarType.Long));
    long start = 0;
    for (int step = 0; step < 400; step++) {
      if (step == 100) {
        start = System.nanoTime();
      }
      try (PointerScope scope = new PointerScope()) {
        model.loss(tokens.narrow(1, 0, 16), tokens.narrow(1, 1, 16)).backward();
        optimizer.clipGradients(1.0);
        optimizer.step(1e-3);
        optimizer.zeroGradients();
      }
    }
    System.out.printf(Locale.ROOT, "host ms per step %.2f  (maxPhysicalBytes %d)%n",
        (System.nanoTime() - start) / 300 / 1e6, Pointer.maxPhysicalBytes());
  }
}
