package org.fastllm.properties;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

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
            assertTrue(e.errors().stream().map(Problem::path).anyMatch(broken.expectedPath()::equals),
                () -> "no error at " + broken.expectedPath() + "; got:\n" + e.getMessage());
          } catch (RuntimeException | LinkageError e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            fail("threw " + e.getClass().getName() + " instead of InvalidConfigException:\n" + trace);
          }
        });
  }
}
