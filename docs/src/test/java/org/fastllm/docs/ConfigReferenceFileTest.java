package org.fastllm.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.reference.ConfigReference;
import org.junit.jupiter.api.Test;

/** docs/reference/config.md is what the code generates today, with the example plugin installed. */
class ConfigReferenceFileTest {
  static final Path COMMITTED = Path.of("reference/config.md");

  @Test
  void committedReference_comparedWithAFreshOne_isNotStale() throws IOException {
    String fresh = ConfigReference.markdown(BlockKindRegistry.installed());

    assertThat(Files.readString(COMMITTED))
        .as("docs/reference/config.md is stale: run " + ConfigReference.COMMAND)
        .isEqualTo(fresh);
  }

  @Test
  void freshReference_withTheExamplePluginInstalled_marksGatedConvAsAPluginKind() {
    String fresh = ConfigReference.markdown(BlockKindRegistry.installed());

    assertThat(fresh).contains("### kind: gated_conv (plugin)")
        .contains("| [gated_conv](#kind-gated-conv) | plugin `org.fastllm.example.GatedConvBlockConfig` |")
        .contains("| `kernel_size` | integer | 4 | >= 1, <= 1024 |");
  }
}
