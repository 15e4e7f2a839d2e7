package org.fastllm.properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.junit.jupiter.api.Test;

/** Property (e): a config with one thing broken is rejected, with an error at the broken path, and nothing else. */
class InvalidConfigPropertyTest {

  @Test
  void load_configWithOneThingBroken_isRejectedWithAnErrorAtThatPath() {
    Properties.check("a broken config is an InvalidConfigException naming the broken path", 400,
        InvalidConfigs.broken(), broken -> {
          try {
            ConfigPipeline.LOADER.load("broken.yaml", broken.yaml());
            fail("accepted");
          } catch (InvalidConfigException e) {
            assertThat(e.errors().stream().map(Problem::path).anyMatch(broken.expectedPath()::equals))
                .as(() -> "no error at " + broken.expectedPath() + "; got:\n" + e.getMessage())
                .isTrue();
          } catch (RuntimeException | LinkageError e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            fail("threw " + e.getClass().getName() + " instead of InvalidConfigException:\n" + trace);
          }
        });
  }
}
