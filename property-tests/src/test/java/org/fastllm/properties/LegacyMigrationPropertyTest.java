package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.util.List;
import java.util.ServiceLoader;
import org.fastllm.dsl.migrate.FormatAdapter;
import org.fastllm.dsl.pattern.LayerPlan;
import org.fastllm.dsl.pattern.StackPlan;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Property (f): a legacy config and its migration agree. Written against public behaviour only: the standard
 * loader, which applies the {@link FormatAdapter}s that {@link ServiceLoader} finds (module legacy-compat).
 */
class LegacyMigrationPropertyTest {

  @BeforeAll
  static void adapterInstalled() {
    if (ServiceLoader.load(FormatAdapter.class).findFirst().isEmpty()) {
      fail("no FormatAdapter is installed: legacy-compat must register its adapter in "
          + "META-INF/services/org.fastllm.dsl.migrate.FormatAdapter (the old-format property cannot run without it)");
    }
  }

  @Test
  void load_legacyConfig_isMigratedAndItsDumpLoadsToTheSameLayersAndCount() {
    Properties.check("a legacy config and the dump of its migration give the same layers and count", 200,
        LegacyConfigs.configs(), legacy -> {
          LoadedConfig migrated = ConfigPipeline.LOADER.load("legacy.yaml", legacy.yaml());
          assertThat(migrated.legacy()).as("loaded as legacy").isTrue();
          assertThat(migrated.plan().layers().size())
              .as("one layer per layout entry")
              .isEqualTo(legacy.layout().size());
          assertThat(migrated.warnings().isEmpty()).as("a deprecation warning is printed").isFalse();

          String dumped = ConfigPipeline.yaml(migrated.resolved());
          LoadedConfig again = ConfigPipeline.LOADER.load("migrated.yaml", dumped);
          assertThat(again.legacy()).as(() -> "the dump is in the new format:\n" + dumped).isFalse();
          assertThat(layerKinds(again.plan())).as("layer kinds").isEqualTo(layerKinds(migrated.plan()));
          assertThat(layerKinds(again.plan()))
              .as("layer kinds of the layout")
              .isEqualTo(expectedKinds(legacy.layout()));
          assertThat(again.count().total()).as("total parameters").isEqualTo(migrated.count().total());
        });
  }

  /** Each layer as its kind and, for ssm blocks, its variant: {@code ssm/discrete_mamba2}. */
  private static List<String> layerKinds(StackPlan plan) {
    return plan.layers().stream().map(LayerPlan::config).map(c ->
        c instanceof org.fastllm.dsl.config.SsmBlockConfig s ? "ssm/" + s.variant().yamlName() : c.kind()).toList();
  }

  private static List<String> expectedKinds(List<String> layout) {
    return layout.stream().map(code -> switch (code) {
      case "t" -> "transformer";
      case "m" -> "ssm/mamba1";
      case "m2" -> "ssm/mamba2";
      case "m2d" -> "ssm/discrete_mamba2";
      default -> throw new IllegalArgumentException(code);
    }).toList();
  }
}
