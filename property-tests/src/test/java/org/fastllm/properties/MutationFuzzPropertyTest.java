package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;

import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.LoadedConfig;
import org.junit.jupiter.api.Test;

/**
 * Valid configs broken at random are either still valid or rejected with problems that each name a path; no other
 * exception ever escapes the loader.
 */
class MutationFuzzPropertyTest {

  record Case(String original, String mutated) {}

  static final Arbitrary<Case> CASES = ((Arbitrary<Case>) draw -> {
    String yaml = ConfigPipeline.yaml(ConfigGenerators.documents().next(draw));
    return new Case(yaml, TextMutations.mutate(draw, yaml));
  }).describedAs(c -> "mutated config:\n" + c.mutated());

  @Test
  void load_mutatedValidConfig_neverThrowsAnythingButInvalidConfig() {
    Properties.check("mutated configs never crash the loader", 1500, CASES, c -> {
      try {
        LoadedConfig loaded = ConfigPipeline.LOADER.load("fuzz.yaml", c.mutated());
        assertThat(loaded.plan().layers()).hasSize(loaded.model().numLayers());
      } catch (InvalidConfigException e) {
        assertThat(e.errors()).isNotEmpty();
        for (Problem p : e.problems()) {
          assertThat(p.path()).isNotBlank();
          assertThat(p.message()).isNotBlank();
          p.location().ifPresent(l -> assertThat(l.line()).isPositive());
        }
      }
    });
  }
}
