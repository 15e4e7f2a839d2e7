package org.fastllm.cli;

import java.util.concurrent.Callable;
import org.fastllm.dsl.kind.BlockKindRegistry;
import org.fastllm.dsl.schema.ConfigSchema;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code schema}: the JSON Schema of the config, plugin kinds included, for editor completion. */
@Command(name = "schema", mixinStandardHelpOptions = true,
    description = {"Print the JSON Schema of the config file, for editors.",
        "Draft 2020-12, with every block kind installed (plugins included)."})
final class SchemaCommand implements Callable<Integer> {
  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().println(ConfigSchema.of(BlockKindRegistry.installed()).toJson());
    spec.commandLine().getOut().flush();
    return Main.OK;
  }
}
