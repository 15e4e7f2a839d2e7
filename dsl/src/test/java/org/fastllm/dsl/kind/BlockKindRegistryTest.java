package org.fastllm.dsl.kind;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.fastllm.dsl.config.SsmBlockConfig;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class BlockKindRegistryTest {

  @Nested
  class FromPlugins {

    @Test
    void fromPlugins_twoPluginsClaimOneKind_namesBothPlugins() {
      PluginConflictException e = assertThrows(PluginConflictException.class,
          () -> BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin(), new EchoPlugin(), new RivalEchoPlugin())));

      assertEquals("block kind 'echo' is claimed by two plugins: org.fastllm.dsl.kind.EchoPlugin (test-classes)"
          + " and org.fastllm.dsl.kind.RivalEchoPlugin (test-classes); remove one of them from the classpath",
          e.getMessage());
    }

    @Test
    void fromPlugins_pluginClaimsCoreKind_namesCoreAndPlugin() {
      BlockPlugin rivalSsm = new BlockPlugin() {
        @Override
        protected void configure() {
          addKind(SsmBlockConfig.class, config -> List.of());
        }
      };

      PluginConflictException e = assertThrows(PluginConflictException.class,
          () -> BlockKindRegistry.fromPlugins(List.of(new CoreBlocksPlugin(), rivalSsm)));

      assertEquals("block kind 'ssm' is claimed by two plugins: org.fastllm.dsl.kind.CoreBlocksPlugin (classes)"
          + " and org.fastllm.dsl.kind.BlockKindRegistryTest$FromPlugins$1 (test-classes);"
          + " remove one of them from the classpath", e.getMessage());
    }

    @Test
    void fromPlugins_distinctKinds_listsThemSortedWithTheirOwners() {
      BlockKindRegistry kinds = BlockKindRegistry.fromPlugins(List.of(new EchoPlugin(), new CoreBlocksPlugin()));

      assertEquals(List.of("echo", "ssm", "transformer"), kinds.names());
      assertEquals("org.fastllm.dsl.kind.EchoPlugin (test-classes)", kinds.ownerOf("echo"));
      assertEquals(EchoBlockConfig.class, kinds.kind("echo").configClass());
    }
  }

  @Nested
  class Installed {

    @Test
    void installed_onlyCoreOnClasspath_hasTheShippedKinds() {
      assertEquals(List.of("ssm", "transformer"), BlockKindRegistry.installed().names());
    }
  }
}
