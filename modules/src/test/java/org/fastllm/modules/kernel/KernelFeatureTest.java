package org.fastllm.modules.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.fastllm.dsl.config.KernelChoice;
import org.junit.jupiter.api.Test;

class KernelFeatureTest {
  private final KernelReport report = new KernelReport();

  private KernelFeature feature(KernelChoice choice) {
    return new KernelFeature("scan", choice, report, null);
  }

  @Test
  void runs_off_takesTensorOperationsWithoutAskingTheKernels() {
    assertThat(feature(KernelChoice.OFF).runs(() -> {
      throw new AssertionError("a kernel that is off is not asked");
    })).isFalse();
    assertThat(report.snapshot()).isEqualTo(Map.of("scan", "tensor operations (off in training.kernels)"));
  }

  @Test
  void runs_auto_takesTheKernelWhereItRuns_elseFallsBackWithTheReason() {
    KernelFeature auto = feature(KernelChoice.AUTO);

    assertThat(auto.runs(() -> null)).isTrue();
    assertThat(auto.runs(() -> "the state size 12 is not a power of two up to 32")).isFalse();
    assertThat(auto.runs(() -> null)).isTrue();

    assertThat(report.snapshot())
        .as("each distinct outcome once, in the order seen")
        .isEqualTo(Map.of("scan", "cuda kernel; tensor operations (the state size 12 is not a power of two up to 32)"));
  }

  @Test
  void runs_onWhereTheKernelCannotRun_stopsNamingTheKeyAndTheReason() {
    KernelUnavailableException e = catchThrowableOfType(KernelUnavailableException.class,
        () -> feature(KernelChoice.ON).runs(() -> "the input is not on a CUDA device (cpu)"));
    assertThat(e).as("expected KernelUnavailableException to be thrown").isNotNull();
    assertThat(e.getMessage())
        .isEqualTo("training.kernels.scan is on, but the scan kernel cannot run here: the input is not on a CUDA "
            + "device (cpu); set it to auto or off");
    assertThat(e.key()).isEqualTo("scan");
    assertThat(e.reason()).isEqualTo("the input is not on a CUDA device (cpu)");
    assertThat(feature(KernelChoice.ON).runs(() -> null)).isTrue();
  }

  @Test
  void runs_onWithoutGradients_fallsBackWithTheReason() {
    // evaluation and generation after a run whose training step had the kernel: they must not stop
    boolean runs;
    try (NoGradGuard noGrad = new NoGradGuard()) {
      runs = feature(KernelChoice.ON).runs(() -> "bf16 autocast is off");
    }
    assertThat(runs).isFalse();
    assertThat(report.snapshot()).isEqualTo(Map.of("scan", "tensor operations (bf16 autocast is off)"));
    assertThat(catchThrowableOfType(KernelUnavailableException.class,
        () -> feature(KernelChoice.ON).runs(() -> "bf16 autocast is off")))
        .as("with gradients recorded again, on stops as before").isNotNull();
  }

  @Test
  void attach_withoutATape_isRefused() {
    Tensor x = torch.ones(2);
    IllegalStateException e = catchThrowableOfType(IllegalStateException.class,
        () -> feature(KernelChoice.AUTO).attach(x, List.of(x), List.of(), dy -> new Tensor[] {dy}));
    assertThat(e).as("expected IllegalStateException to be thrown").isNotNull();
    assertThat(e.getMessage()).isEqualTo("the scan kernel has no backward tape to attach to");
  }

  @Test
  void empty_madeOnTheInputsDevice_inTheTypeAndShapeAsked() {
    Tensor like = torch.ones(3, 4).to(torch.ScalarType.Double);

    Tensor made = KernelFeature.empty(like, torch.ScalarType.BFloat16, 5, 2);
    Tensor same = KernelFeature.emptyLike(like.transpose(0, 1));

    assertThat(made.scalar_type().intern()).isEqualTo(torch.ScalarType.BFloat16);
    assertThat(java.util.Arrays.toString(made.sizes().vec().get())).isEqualTo("[5, 2]");
    assertThat(same.scalar_type().intern()).isEqualTo(torch.ScalarType.Double);
    assertThat(java.util.Arrays.toString(same.sizes().vec().get())).isEqualTo("[4, 3]");
    assertThat(same.is_contiguous()).as("a new contiguous tensor, whatever the input's strides").isTrue();
  }

  @Test
  void runsPart_whereThePartsKernelCannotRun_recordsThePartAndTheReasonAndNeverStopsTheRun() {
    KernelReport report = new KernelReport();
    KernelFeature scan = new KernelFeature("scan", KernelChoice.ON, report, null);

    boolean runs = scan.runsPart("the gate", "u is float32");

    assertThat(runs).isFalse();
    assertThat(report.snapshot()).isEqualTo(Map.of("scan", "tensor operations (the gate: u is float32)"));
    assertThat(scan.runsPart("the gate", null)).as("where it can run").isTrue();
    assertThat(report.snapshot().get("scan")).isEqualTo("tensor operations (the gate: u is float32); cuda kernel");
  }
}
