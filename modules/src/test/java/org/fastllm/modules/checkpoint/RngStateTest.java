package org.fastllm.modules.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

class RngStateTest {
  private static final Path STATE = Path.of("run/checkpoints/step-000003/state.json");

  @Test
  void restore_capturedState_drawsTheSameNumbersAgain() {
    torch.manual_seed(42);
    String saved = RngState.capture();
    Tensor first = torch.randn(new long[] {8});

    torch.manual_seed(7);
    RngState.restore(saved, STATE);
    Tensor again = torch.randn(new long[] {8});

    assertThat(torch.equal(first, again)).isTrue();
  }

  @Test
  void restore_notAGeneratorState_namesTheFileAndTheField() {
    String tooShort = java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});

    assertThatThrownBy(() -> RngState.restore(tooShort, STATE)).isInstanceOf(CheckpointException.class)
        .hasMessageStartingWith(STATE + ": torch_rng is not a libtorch CPU generator state (");
    assertThatThrownBy(() -> RngState.restore("not base64 !", STATE)).isInstanceOf(CheckpointException.class)
        .hasMessageStartingWith(STATE + ": torch_rng is not a libtorch CPU generator state (Illegal base64");
  }
}
