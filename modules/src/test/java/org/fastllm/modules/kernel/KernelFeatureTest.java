package org.fastllm.modules.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
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
    assertFalse(feature(KernelChoice.OFF).runs(() -> {
      throw new AssertionError("a kernel that is off is not asked");
    }));
    assertEquals(Map.of("scan", "tensor operations (off in training.kernels)"), report.snapshot());
  }

  @Test
  void runs_auto_takesTheKernelWhereItRuns_elseFallsBackWithTheReason() {
    KernelFeature auto = feature(KernelChoice.AUTO);

    assertTrue(auto.runs(() -> null));
    assertFalse(auto.runs(() -> "the state size 12 is not a power of two up to 32"));
    assertTrue(auto.runs(() -> null));

    assertEquals(Map.of("scan", "cuda kernel; tensor operations (the state size 12 is not a power of two up to 32)"),
        report.snapshot(), "each distinct outcome once, in the order seen");
  }

  @Test
  void runs_onWhereTheKernelCannotRun_stopsNamingTheKeyAndTheReason() {
    KernelUnavailableException e = assertThrows(KernelUnavailableException.class,
        () -> feature(KernelChoice.ON).runs(() -> "the input is not on a CUDA device (cpu)"));
    assertEquals("training.kernels.scan is on, but the scan kernel cannot run here: the input is not on a CUDA "
        + "device (cpu); set it to auto or off", e.getMessage());
    assertEquals("scan", e.key());
    assertEquals("the input is not on a CUDA device (cpu)", e.reason());
    assertTrue(feature(KernelChoice.ON).runs(() -> null));
  }

  @Test
  void attach_withoutATape_isRefused() {
    Tensor x = torch.ones(2);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> feature(KernelChoice.AUTO).attach(x, List.of(x), List.of(), dy -> new Tensor[] {dy}));
    assertEquals("the scan kernel has no backward tape to attach to", e.getMessage());
  }

  @Test
  void empty_madeOnTheInputsDevice_inTheTypeAndShapeAsked() {
    Tensor like = torch.ones(3, 4).to(torch.ScalarType.Double);

    Tensor made = KernelFeature.empty(like, torch.ScalarType.BFloat16, 5, 2);
    Tensor same = KernelFeature.emptyLike(like.transpose(0, 1));

    assertEquals(torch.ScalarType.BFloat16, made.scalar_type().intern());
    assertEquals("[5, 2]", java.util.Arrays.toString(made.sizes().vec().get()));
    assertEquals(torch.ScalarType.Double, same.scalar_type().intern());
    assertEquals("[4, 3]", java.util.Arrays.toString(same.sizes().vec().get()));
    assertTrue(same.is_contiguous(), "a new contiguous tensor, whatever the input's strides");
  }
}
