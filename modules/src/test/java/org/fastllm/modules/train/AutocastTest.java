package org.fastllm.modules.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/** The autocast flags are per thread and need no GPU to be set, so the scope is checked on any machine. */
class AutocastTest {
  private static final torch.DeviceType CUDA = torch.DeviceType.CUDA;

  @Test
  void bf16_onCuda_switchesBf16WithoutCacheInside_andRestoresTheStateBefore() {
    torch.set_autocast_enabled(CUDA, false);
    torch.set_autocast_dtype(CUDA, torch.ScalarType.Half);
    torch.set_autocast_cache_enabled(true);

    try (Autocast scope = Autocast.bf16(new Device("cuda:0"), true)) {
      assertThat(torch.is_autocast_enabled(CUDA)).isTrue();
      assertThat(torch.get_autocast_dtype(CUDA).intern()).isEqualTo(torch.ScalarType.BFloat16);
      assertThat(torch.is_autocast_cache_enabled()).isFalse();
    }

    assertThat(torch.is_autocast_enabled(CUDA)).isFalse();
    assertThat(torch.get_autocast_dtype(CUDA).intern()).isEqualTo(torch.ScalarType.Half);
    assertThat(torch.is_autocast_cache_enabled()).isTrue();
  }

  @Test
  void bf16_blockThrows_stillRestores() {
    torch.set_autocast_enabled(CUDA, false);
    try (Autocast scope = Autocast.bf16(new Device("cuda:0"), true)) {
      throw new IllegalStateException("step failed");
    } catch (IllegalStateException expected) {
      assertThat(torch.is_autocast_enabled(CUDA)).isFalse();
    }
  }

  @Test
  void bf16_off_turnsAnEnclosingAutocastOffInsideOnly() {
    torch.set_autocast_enabled(CUDA, true);
    try (Autocast scope = Autocast.bf16(new Device("cuda:0"), false)) {
      assertThat(torch.is_autocast_enabled(CUDA)).isFalse();
    } finally {
      assertThat(torch.is_autocast_enabled(CUDA)).isTrue();
      torch.set_autocast_enabled(CUDA, false);
    }
  }

  @Test
  void bf16_onTheCpu_changesNothing() {
    torch.set_autocast_enabled(CUDA, false);
    try (Autocast scope = Autocast.bf16(new Device("cpu"), true)) {
      assertThat(torch.is_autocast_enabled(CUDA)).isFalse();
      assertThat(torch.is_autocast_enabled(torch.DeviceType.CPU)).isFalse();
    }
  }
}
