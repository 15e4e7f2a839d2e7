package org.fastllm.modules.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** What a recording refuses before it touches a GPU; the replays themselves are checked on the GPU host. */
class CudaGraphTest {
  @Test
  void capture_aNegativeDeviceIndex_isRefusedWithoutRunningTheWork() {
    AtomicBoolean ran = new AtomicBoolean();
    assertThatThrownBy(() -> CudaGraph.capture(-1, () -> ran.set(true)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    assertThat(ran).isFalse();
  }

  @Test
  void capture_whereTheCudaLibrariesAreMissing_saysSoWithoutRunningTheWork() {
    String missing = RuntimeKernels.availability();
    if (missing == null) {
      return;   // a machine with CUDA's libraries: the recording is checked by the GPU benchmarks
    }
    AtomicBoolean ran = new AtomicBoolean();
    assertThatThrownBy(() -> CudaGraph.capture(0, () -> ran.set(true)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("CUDA graphs need").hasMessageContaining(missing);
    assertThat(ran).isFalse();
  }
}
