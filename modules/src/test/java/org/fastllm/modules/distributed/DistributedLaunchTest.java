package org.fastllm.modules.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DistributedLaunchTest {
  @Test
  void fromEnvironment_noWorldSize_isOneProcessThatWrites() {
    DistributedLaunch launch = DistributedLaunch.fromEnvironment(Map.of("RANK", "3"));

    assertThat(launch).isEqualTo(DistributedLaunch.single());
    assertThat(launch.distributed()).isFalse();
    assertThat(launch.writesFiles()).isTrue();
  }

  @Test
  void fromEnvironment_torchrunVariables_areRead() {
    DistributedLaunch launch = DistributedLaunch.fromEnvironment(Map.of("RANK", "5", "WORLD_SIZE", "8",
        "LOCAL_RANK", "1", "MASTER_ADDR", "node-0", "MASTER_PORT", "29500"));

    assertThat(launch).isEqualTo(new DistributedLaunch(5, 8, 1, "node-0", 29500));
    assertThat(launch.writesFiles()).isFalse();
  }

  @Test
  void fromEnvironment_rankOutsideWorld_namesTheRange() {
    assertThatThrownBy(() -> DistributedLaunch.fromEnvironment(Map.of("RANK", "2", "WORLD_SIZE", "2",
        "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "29500")))
        .hasMessage("RANK is 2; with WORLD_SIZE 2 it must be 0 to 1");
  }

  @Test
  void fromEnvironment_missingMasterAddress_saysWhatIsNeeded() {
    assertThatThrownBy(() -> DistributedLaunch.fromEnvironment(Map.of("RANK", "0", "WORLD_SIZE", "2",
        "MASTER_PORT", "29500")))
        .hasMessage("MASTER_ADDR is not set; a run of WORLD_SIZE 2 needs the host of rank 0 (e.g. MASTER_ADDR=127.0.0.1)");
  }

  @Test
  void fromEnvironment_portNotANumber_isRefused() {
    assertThatThrownBy(() -> DistributedLaunch.fromEnvironment(Map.of("RANK", "0", "WORLD_SIZE", "2",
        "MASTER_ADDR", "127.0.0.1", "MASTER_PORT", "http")))
        .hasMessage("MASTER_PORT is 'http'; it must be a whole number");
  }
}
