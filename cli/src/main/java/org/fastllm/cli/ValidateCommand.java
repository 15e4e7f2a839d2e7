package org.fastllm.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.fastllm.dsl.problem.InvalidConfigException;
import org.fastllm.dsl.problem.Problem;
import org.fastllm.validation.load.ConfigLoader;
import org.fastllm.validation.load.LoadedConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code validate FILE...}: reports every problem of each file at once; exit 2 when any file is invalid. */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = {"Check config files: every problem at once, each with its path, line and column.",
        "Old-format files are accepted with deprecation warnings."})
final class ValidateCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "FILE", description = "YAML config files.")
  List<Path> files;

  @Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ConfigLoader loader = ConfigLoader.standard();
    int exit = Main.OK;
    for (Path file : files) {
      try {
        LoadedConfig config = loader.load(file);
        config.warnings().stream().map(Problem::render).forEach(err::println);
        out.printf("%s: valid (%d layers, %s parameters)%n", file, config.plan().layers().size(),
            Numbers.grouped(config.count().total()));
      } catch (InvalidConfigException e) {
        e.problems().stream().map(Problem::render).forEach(err::println);
        int errors = e.errors().size();
        out.printf("%s: invalid (%d error%s)%n", file, errors, errors == 1 ? "" : "s");
        exit = Main.INVALID;
      }
    }
    return exit;
  }
}
