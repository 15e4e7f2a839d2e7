package org.fastllm.dsl.kind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.List;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class BlockKindRegistryTest {

  @Nested
  class FromPlugins {

    @Test
    void fromPlugins_twoPluginsClaimOneKind_namesBothPlugins() {
      PluginConflictException e = catchThrowableOfType(PluginConflictException.class,
          () -> BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin(), new EchoPlugin(), new RivalEchoPlugin())));
      assertThat(e).as("expected PluginConflictException to be thrown").isNotNull();

      assertThat(e.getMessage())
          .isEqualTo("block kind 'echo' is claimed by two plugins: org.fastllm.dsl.kind.EchoPlugin (test-classes)"
              + " and org.fastllm.dsl.kind.RivalEchoPlugin (test-classes); remove one of them from the classpath");
    }

    @Test
    void fromPlugins_pluginClaimsCoreKind_namesCoreAndPlugin() {
      BlockPlugin rivalSsm = new BlockPlugin() {
        @Override
        protected void configure() {
          addKind(SsmBlockConfig.class, config -> List.of());
        }
      };

      PluginConflictException e = catchThrowableOfType(PluginConflictException.class,
          () -> BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin(), rivalSsm)));
      assertThat(e).as("expected PluginConflictException to be thrown").isNotNull();

      assertThat(e.getMessage())
          .isEqualTo("block kind 'ssm' is claimed by two plugins: org.fastllm.dsl.kind.CoreBlocksPlugin (classes)"
              + " and org.fastllm.dsl.kind.BlockKindRegistryTest$FromPlugins$1 (test-classes);"
              + " remove one of them from the classpath");
    }

    @Test
    void fromPlugins_distinctKinds_listsThemSortedWithTheirOwners() {
      BlockKindRegistry kinds = BlockKindRegistry.fromPlugins(List.of(new EchoPlugin(), new CoreBlocksPlugin()));

      assertThat(kinds.names()).isEqualTo(List.of("echo", "ssm", "transformer"));
      assertThat(kinds.ownerOf("echo")).isEqualTo("org.fastllm.dsl.kind.EchoPlugin (test-classes)");
      assertThat(kinds.kind("echo").configClass()).isEqualTo(EchoBlockConfig.class);
    }
  }

  @Nested
  class Installed {

    @Test
    void installed_onlyCoreOnClasspath_hasTheShippedKinds() {
      assertThat(BlockKindRegistry.installed().names()).isEqualTo(List.of("ssm", "transformer"));
    }
  }
}
