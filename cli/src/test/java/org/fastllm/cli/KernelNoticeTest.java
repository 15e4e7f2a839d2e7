package org.fastllm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.fastllm.modules.train.StepReport;
import org.junit.jupiter.api.Test;

class KernelNoticeTest {
  private static StepReport step(int n) {
    return new StepReport(n, 3, 5.0, 3e-4, 1.0, 1000, null, n, 3 - n, 1000L * n, null);
  }

  @Test
  void namesEachKernelNotUsedOnceWithItsReasonBeforeTheFirstStep() {
    Map<String, String> kernels = new TreeMap<>(Map.of("adamw", "fused", "bf16_copies", "12 tensors",
        "loss", "cuda kernel", "norm", "tensor operations (off in training.kernels)",
        "scan", "cuda kernel; tensor operations (the state is wider than 256)"));
    StringWriter text = new StringWriter();
    AtomicInteger asked = new AtomicInteger();
    List<Integer> passed = new ArrayList<>();
    KernelNotice notice = new KernelNotice(() -> {
      asked.incrementAndGet();
      return kernels;
    }, new PrintWriter(text), r -> passed.add(r.step()));
    for (int n = 1; n <= 3; n++) {
      notice.onStep(step(n));
    }
    assertThat(text.toString().lines()).containsExactly(
        "kernel not used: norm, tensor operations (off in training.kernels)",
        "kernel not used: scan, cuda kernel; tensor operations (the state is wider than 256)");
    assertThat(asked).hasValue(1);
    assertThat(passed).containsExactly(1, 2, 3);
  }

  @Test
  void oneLineWhenEveryKernelRuns() {
    assertThat(KernelNotice.lines(new TreeMap<>(Map.of("adamw", "fused", "bf16_copies", "1 tensor",
        "rotary", "cuda kernel")))).containsExactly("kernels: each in use (adamw, bf16_copies, rotary)");
    assertThat(KernelNotice.lines(Map.of())).isEmpty();
  }

  @Test
  void theOptimizerOffIsNamed() {
    assertThat(KernelNotice.lines(Map.of("bf16_copies", "off (the run is on the CPU)")))
        .containsExactly("kernel not used: bf16_copies, off (the run is on the CPU)");
  }
}
